/**
 * `vigil audit verify`: walk the audit log's hash chain and report the first broken link.
 * `vigil audit list`: the newest records, from the file (works while Vigil is stopped).
 */
import { existsSync } from 'node:fs';
import type { Command } from '../command';
import { parseFlags } from '../index';
import { AuditLog, auditPath } from '../../storage/audit';

export function dataDirOf(flags: Record<string, unknown>): string {
  const d = flags['data-dir'];
  return typeof d === 'string' ? d : process.env.VIGIL_DATA_DIR ?? './data';
}

/** Opens the audit log named by the flags, runs `use` on it and closes it; exit 1 when it cannot be opened. */
async function withAudit(args: string[], use: (log: AuditLog, flags: Record<string, unknown>) => number): Promise<number> {
  const { flags } = parseFlags(args);
  const path = auditPath(dataDirOf(flags));
  if (!existsSync(path)) {
    process.stderr.write(`error: no audit log at ${path} (see --data-dir)\n`);
    return 1;
  }
  let log: AuditLog;
  try {
    log = new AuditLog(path);
  } catch (e) {
    process.stderr.write(`error: cannot open ${path}: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    return use(log, flags);
  } finally {
    log.close();
  }
}

export const auditVerifyCommand: Command = {
  name: 'audit verify',
  summary: "Check the audit log's hash chain; exit 1 if a record was changed or removed",
  usage: 'vigil audit verify [--data-dir DIR]   (default $VIGIL_DATA_DIR or ./data; VIGIL_DB_KEY if encrypted)',
  run: (args) => withAudit(args, (log) => {
    const v = log.verify();
    if (v.ok) {
      process.stdout.write(`audit log intact: ${v.records} records, head ${v.head}\n`);
      return 0;
    }
    process.stdout.write(`audit log TAMPERED at record ${v.seq}: ${v.problem}\n`);
    return 1;
  }),
};

export const auditListCommand: Command = {
  name: 'audit list',
  summary: 'Print the newest audit records (who, what, when, from where, outcome)',
  usage: 'vigil audit list [--data-dir DIR] [--limit N] [--json]',
  run: (args) => withAudit(args, (log, flags) => {
    const recs = log.list({ limit: Number(flags.limit ?? 50) || 50 });
    if (flags.json) process.stdout.write(JSON.stringify(recs, null, 2) + '\n');
    else for (const r of recs) process.stdout.write(`${r.seq}\t${r.time}\t${r.principal ?? '-'}\t${r.remote}\t${r.action}\t${r.outcome} ${r.status}\n`);
    return 0;
  }),
};

export const auditCommands: Command[] = [auditVerifyCommand, auditListCommand];
