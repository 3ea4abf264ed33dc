/**
 * Erasure of a data subject from component state, next to the store's erasure (erasure.ts): the
 * security processor's brute-force windows, block list, user profiles and recent threats, and the
 * anomaly processor's (and connector's) per-series profiles whose series key carries the subject
 * under a subject key.
 *
 * Two ways in, because the state lives in two places:
 * - a running Vigil (`DELETE /api/subjects/:id`): each component that holds such state registers
 *   an eraser here; the eraser forgets the subject in memory and writes its state through at once,
 *   so neither a later persist nor a restart brings it back;
 * - the offline CLI (`vigil erase`): the state file (`<data dir>/state.db`) is edited directly.
 *   With Vigil running, its next persist would write the in-memory copy back: use the API then.
 *
 * Both paths apply the same rule. A subject matches a user (user windows, profiles, a threat's user) or, when the subject given is
 * an address, a source (IP windows, block entries, a threat's address): IP addresses are personal
 * data too.
 */
import { openSqlite, SqliteDatabase } from './sqlite';

/** What one place removed, by kind (e.g. { users: 1, blocked: 1 }). */
export interface StateErasure {
  place: string;
  removed: Record<string, number>;
}

export type SubjectEraser = (subject: string, keys: string[]) => Record<string, number>;

/** A set, not a map by place: a processor id in two pipelines has two instances, each with its own state. */
const erasers = new Set<{ place: string; eraser: SubjectEraser }>();

/** Registers the live eraser of one component (`place` names it in reports); returns the unregister. */
export function registerSubjectEraser(place: string, eraser: SubjectEraser): () => void {
  const entry = { place, eraser };
  erasers.add(entry);
  return () => erasers.delete(entry);
}

/** Runs every registered eraser; one that throws is reported as an error, the others still run. */
export function eraseSubjectFromLiveState(subject: string, keys: string[]): Array<StateErasure & { error?: string }> {
  const out: Array<StateErasure & { error?: string }> = [];
  for (const { place, eraser } of erasers) {
    try {
      out.push({ place, removed: eraser(subject, keys) });
    } catch (e) {
      out.push({ place, removed: {}, error: (e as Error).message });
    }
  }
  return out;
}

// ---- what names the subject, shared by the live erasers and the file editor ----

/** The shapes persisted by processors/security/engine.ts (kept structural: no import of the processor). */
interface BruteForceState {
  users?: Array<[string, number[]]>;
  ips?: Array<[string, number[], Array<[string, number]>]>;
  blocked?: Array<{ ip: string }>;
}
interface RecentThreatState { user?: string; ip?: string }

/** Whether an anomaly series key (`name|resource|attributes`, see processors/anomaly/config.ts) names the subject. */
export function seriesKeyNames(key: string, subject: string, keys: string[]): boolean {
  const value = JSON.stringify(subject);
  for (const k of keys) {
    const pair = `${JSON.stringify(k)}=${value}`;
    for (let at = key.indexOf(pair); at >= 0; at = key.indexOf(pair, at + 1)) {
      const before = key[at - 1];
      const after = key[at + pair.length];
      if ((before === '|' || before === ',') && (after === undefined || after === ',' || after === '|')) return true;
    }
  }
  return false;
}

function eraseBruteForce(s: BruteForceState, subject: string, removed: Record<string, number>): void {
  const users = s.users ?? [];
  s.users = users.filter(([u]) => u !== subject);
  removed.users = (removed.users ?? 0) + users.length - s.users.length;
  let ipWindows = 0;
  let userMentions = 0;
  s.ips = (s.ips ?? []).filter(([ip]) => (ip === subject ? (ipWindows++, false) : true)).map(([ip, t, us]) => {
    const kept = us.filter(([u]) => u !== subject);
    userMentions += us.length - kept.length;
    return [ip, t, kept];
  });
  removed.ip_windows = (removed.ip_windows ?? 0) + ipWindows;
  removed.user_in_ip_windows = (removed.user_in_ip_windows ?? 0) + userMentions;
  const blocked = s.blocked ?? [];
  s.blocked = blocked.filter((b) => b.ip !== subject);
  removed.blocked = (removed.blocked ?? 0) + blocked.length - s.blocked.length;
}

function eraseFromValue(key: string, value: unknown, subject: string, removed: Record<string, number>): unknown {
  if (key === 'bruteforce') {
    eraseBruteForce(value as BruteForceState, subject, removed);
    return value;
  }
  if (key === 'profiles') {
    const all = value as Array<[string, unknown]>;
    const kept = all.filter(([u]) => u !== subject);
    removed.profiles = (removed.profiles ?? 0) + all.length - kept.length;
    return kept;
  }
  if (key === 'recent') {
    const all = value as RecentThreatState[];
    const kept = all.filter((r) => r.user !== subject && r.ip !== subject);
    removed.recent_threats = (removed.recent_threats ?? 0) + all.length - kept.length;
    return kept;
  }
  return value;
}

const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/**
 * Erase `subject` from a state file (`state.db`, src/state.ts) offline. Deleted bytes are
 * overwritten (secure_delete), and the file is vacuumed so older versions of the rewritten rows
 * left in free pages go too. Returns one entry per component that held state.
 */
export function eraseSubjectFromStateFile(path: string, subject: string, keys: string[]): StateErasure[] {
  if (!subject) throw new Error('the subject id is empty');
  const db: SqliteDatabase = openSqlite(path, { fileMustExist: true, timeout: 10_000 });
  try {
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'component_state'").get()) return [];
    db.pragma('secure_delete = ON');
    const byPlace = new Map<string, Record<string, number>>();
    const rows = db.prepare("SELECT component, key, value FROM component_state WHERE component LIKE 'security/%' OR component LIKE 'anomaly:%'").all() as Array<{ component: string; key: string; value: string }>;
    const put = db.prepare('UPDATE component_state SET value = ? WHERE component = ? AND key = ?');
    const del = db.prepare('DELETE FROM component_state WHERE component = ? AND key = ?');
    db.transaction(() => {
      for (const r of rows) {
        let removed = byPlace.get(r.component);
        if (!removed) byPlace.set(r.component, (removed = {}));
        if (r.component.startsWith('anomaly:')) {
          removed.series = removed.series ?? 0;
          if (seriesKeyNames(r.key, subject, keys)) {
            del.run(r.component, r.key);
            removed.series++;
          }
          continue;
        }
        const before = total(removed);
        const value = eraseFromValue(r.key, JSON.parse(r.value), subject, removed);
        if (total(removed) !== before) put.run(JSON.stringify(value), r.component, r.key);
      }
    })();
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
    return [...byPlace].map(([place, removed]) => ({ place, removed }));
  } finally {
    db.close();
  }
}
