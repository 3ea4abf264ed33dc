/**
 * Silences, as in Alertmanager: a set of matchers muting every alert they match between startsAt
 * and endsAt. Expiring a silence ends it now (a silence that has not started yet is ended before it
 * begins). Expired silences are kept for `retention` so that the API can still show them.
 */
import { randomUUID } from 'node:crypto';
import { Labels } from './labels';
import { ApiMatcher, Matcher, fromApiMatcher, matches, matchesAll, toApiMatcher } from './matchers';

export type SilenceState = 'pending' | 'active' | 'expired';

export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
  updatedAt: number;
}

/** The JSON form (API and persistence), Alertmanager API v2's gettableSilence. */
export interface SilenceJson {
  id: string;
  matchers: ApiMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  updatedAt: string;
  status: { state: SilenceState };
}

export function silenceState(s: Silence, now: number): SilenceState {
  if (s.endsAt <= now) return 'expired';
  if (s.startsAt > now) return 'pending';
  return 'active';
}

export function silenceToJson(s: Silence, now: number): SilenceJson {
  return {
    id: s.id,
    matchers: s.matchers.map(toApiMatcher),
    startsAt: new Date(s.startsAt).toISOString(),
    endsAt: new Date(s.endsAt).toISOString(),
    createdBy: s.createdBy,
    comment: s.comment,
    updatedAt: new Date(s.updatedAt).toISOString(),
    status: { state: silenceState(s, now) },
  };
}

function parseTime(v: unknown, what: string, def: number): number {
  if (v === undefined || v === null || v === '') return def;
  const t = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw new Error(`${what} must be an RFC 3339 time such as 2025-01-01T00:00:00Z`);
  return t;
}

const MAX_TEXT = 4096;
/** Bounds memory whatever the API is sent (expired ones count until they are dropped). */
export const MAX_SILENCES = 10_000;

/** Validates an Alertmanager-style postable silence; throws an Error whose message says what is wrong. */
export function silenceFromJson(body: unknown, now: number): Silence {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('expected a JSON object {matchers, startsAt, endsAt, createdBy, comment}');
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.matchers) || b.matchers.length === 0) throw new Error('matchers: at least one matcher is required');
  if (b.matchers.length > 64) throw new Error('matchers: at most 64');
  const ms = b.matchers.map((m) => fromApiMatcher(m as ApiMatcher));
  // A silence whose every matcher also matches an empty label would silence everything.
  if (ms.every((m) => matches(m, {}))) throw new Error('matchers: at least one matcher must not match the empty string');
  const startsAt = parseTime(b.startsAt, 'startsAt', now);
  const endsAt = parseTime(b.endsAt, 'endsAt', NaN);
  if (!Number.isFinite(endsAt)) throw new Error('endsAt is required');
  if (endsAt <= startsAt) throw new Error('endsAt must be after startsAt');
  if (endsAt <= now) throw new Error('endsAt must be in the future');
  const createdBy = typeof b.createdBy === 'string' ? b.createdBy : '';
  const comment = typeof b.comment === 'string' ? b.comment : '';
  if (!createdBy) throw new Error('createdBy is required');
  if (!comment) throw new Error('comment is required');
  if (createdBy.length > MAX_TEXT || comment.length > MAX_TEXT) throw new Error(`createdBy and comment are limited to ${MAX_TEXT} characters`);
  const id = typeof b.id === 'string' && b.id ? b.id : randomUUID();
  return { id, matchers: ms, startsAt, endsAt, createdBy, comment, updatedAt: now };
}

export function silenceFromStored(j: SilenceJson): Silence {
  return {
    id: j.id,
    matchers: j.matchers.map(fromApiMatcher),
    startsAt: Date.parse(j.startsAt),
    endsAt: Date.parse(j.endsAt),
    createdBy: j.createdBy,
    comment: j.comment,
    updatedAt: Date.parse(j.updatedAt),
  };
}

export class Silences {
  private readonly byId = new Map<string, Silence>();

  constructor(private readonly onChange: (s: Silence, deleted: boolean) => void = () => {}) {}

  load(list: Silence[]): void {
    for (const s of list) this.byId.set(s.id, s);
  }

  /** Creates a silence, or replaces one with the same id. */
  set(s: Silence, now: number): string {
    const old = this.byId.get(s.id);
    if (old && silenceState(old, now) === 'expired') throw new Error(`silence ${s.id} is expired and cannot be updated`);
    if (!old && this.byId.size >= MAX_SILENCES) throw new Error(`too many silences (${MAX_SILENCES}); expire some first`);
    this.byId.set(s.id, s);
    this.onChange(s, false);
    return s.id;
  }

  get(id: string): Silence | undefined {
    return this.byId.get(id);
  }

  /** Ends a silence now. Returns false when it does not exist or has already expired. */
  expire(id: string, now: number): boolean {
    const s = this.byId.get(id);
    if (!s || silenceState(s, now) === 'expired') return false;
    if (s.startsAt > now) s.startsAt = now;
    s.endsAt = now;
    s.updatedAt = now;
    this.onChange(s, false);
    return true;
  }

  /** Ids of the active silences matching the labels. */
  mutedBy(labels: Labels, now: number): string[] {
    const out: string[] = [];
    for (const s of this.byId.values()) if (silenceState(s, now) === 'active' && matchesAll(s.matchers, labels)) out.push(s.id);
    return out;
  }

  list(): Silence[] {
    return [...this.byId.values()];
  }

  /** Drops silences expired for longer than retention. */
  gc(now: number, retentionMs: number): void {
    for (const s of [...this.byId.values()]) {
      if (s.endsAt + retentionMs < now) {
        this.byId.delete(s.id);
        this.onChange(s, true);
      }
    }
  }

  /** When the next silence starts or ends (so that muted groups can be re-checked), if any. */
  nextChange(now: number): number | undefined {
    let next: number | undefined;
    for (const s of this.byId.values()) {
      for (const t of [s.startsAt, s.endsAt]) if (t > now && (next === undefined || t < next)) next = t;
    }
    return next;
  }
}
