/**
 * `vigil erase --subject ID`: remove a data subject's spans, logs and metric points from the store
 * (src/storage/erasure.ts) and its detector state from state.db (erasure-state.ts), print what was removed, and record the erasure in the audit log. Works
 * with Vigil running (the deletions are short transactions next to its writer) or stopped.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../command';
import { parseFlags } from '../index';
import { AuditLog, auditPath } from '../../storage/audit';
import { DEFAULT_SUBJECT_KEYS, eraseSubjectFromStore, ErasureReport } from '../../storage/erasure';
import { eraseSubjectFromStateFile, StateErasure } from '../../storage/erasure-state';
import { dataDirOf } from './audit';
import { osUser } from './rekey';

export const eraseCommand: Command = {
  name: 'erase',
  summary: "Erase a data subject's spans, logs and metric points from the store (GDPR erasure)",
  usage: 'vigil erase --subject ID [--db FILE]... [--state FILE] [--key ATTRIBUTE]... [--data-dir DIR] [--json]\n' +
    `  --user is the same as --subject; the store defaults to $VIGIL_DB or <data dir>/vigil.db, the component\n  state to <data dir>/state.db (run with Vigil stopped, or use DELETE /api/subjects/:id);\n  keys default to ${DEFAULT_SUBJECT_KEYS.join(', ')}`,
  async run(args) {
    const { flags } = parseFlags(args, ['db', 'key']);
    const subject = flags.subject ?? flags.user;
    if (typeof subject !== 'string' || !subject || flags.help) {
      process.stderr.write(`usage: ${eraseCommand.usage}\n`);
      return 2;
    }
    const dataDir = dataDirOf(flags);
    const dbs = (flags.db as string[] | undefined) ?? [process.env.VIGIL_DB ?? join(dataDir, 'vigil.db')];
    const keys = (flags.key as string[] | undefined) ?? DEFAULT_SUBJECT_KEYS;
    const reports: ErasureReport[] = [];
    let failed = false;
    for (const db of dbs) {
      try {
        if (!existsSync(db)) throw new Error('no such file (see --db, --data-dir)');
        const r = eraseSubjectFromStore(db, subject, keys);
        reports.push(r);
        if (flags.json !== true) process.stdout.write(`${db}: erased ${r.spans} spans, ${r.logs} log records, ${r.metric_points} metric points (${r.metric_series} series and ${r.resources} resources anonymised)\n`);
      } catch (e) {
        failed = true;
        process.stderr.write(`error: ${db}: ${(e as Error).message}\n`);
      }
    }
    // Component state (security windows, block list, profiles; anomaly series) in <data dir>/state.db.
    const stateFile = typeof flags.state === 'string' ? flags.state : join(dataDir, 'state.db');
    let state: StateErasure[] = [];
    if (existsSync(stateFile)) {
      try {
        state = eraseSubjectFromStateFile(stateFile, subject, keys);
        if (flags.json !== true) {
          for (const s of state) process.stdout.write(`${stateFile} ${s.place}: removed ${Object.entries(s.removed).map(([k, n]) => `${n} ${k}`).join(', ')}\n`);
        }
      } catch (e) {
        failed = true;
        process.stderr.write(`error: ${stateFile}: ${(e as Error).message}\n`);
      }
    } else if (typeof flags.state === 'string') {
      failed = true;
      process.stderr.write(`error: ${stateFile}: no such file\n`);
    }
    if (flags.json === true) process.stdout.write(`${JSON.stringify({ subject, keys, stores: reports, state })}\n`);
    if (existsSync(dataDir)) {
      const audit = new AuditLog(auditPath(dataDir));
      try {
        audit.append({ principal: osUser(), role: null, remote: 'cli', action: 'erase', target: subject, outcome: failed ? 'failed' : 'ok', status: failed ? 1 : 0, detail: { stores: reports, state } });
      } finally {
        audit.close();
      }
    }
    return failed ? 1 : 0;
  },
};
