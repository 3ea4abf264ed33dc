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

function openAudit(flags: Record<string, unknown>): AuditLog | string {
  const path = auditPath(dataDirOf(flags));
  if (!existsSync(path)) return `no audit log at ${path} (see --data-dir)`;
  try {
    return new AuditLog(path);
  } catch (e) {
    return `cannot open ${path}: ${(e as Error).message}`;
  }
}

export const auditVerifyCommand: Command = {
  name: 'audit verify',
  summary: "Check the audit log's hash chain; exit 1 if a record was changed or removed",
  usage: 'vigil audit verify [--data-dir DIR]   (default $VIGIL_DATA_DIR or ./data; VIGIL_DB_KEY if encrypted)',
  async run(args) {
    const { flags } = parseFlags(args);
    const log = openAudit(flags);
    if (typeof log === 'string') {
      process.stderr.write(`error: ${log}\n`);
      return 1;
    }
    try {
      const v = log.verify();
      if (v.ok) {
        process.stdout.write(`audit log intact: ${v.records} records, head ${v.head}\n`);
        return 0;
      }
      process.stdout.write(`audit log TAMPERED at record ${v.seq}: ${v.problem}\n`);
      return 1;
    } finally {
      log.close();
    }
  },
};

export const auditListCommand: Command = {
  name: 'audit list',
  summary: 'Print the newest audit records (who, what, when, from where, outcome)',
  usage: 'vigil audit list [--data-dir DIR] [--limit N] [--json]',
  async run(args) {
    const { flags } = parseFlags(args);
    const log = openAudit(flags);
    if (typeof log === 'string') {
      process.stderr.write(`error: ${log}\n`);
      return 1;
    }
    try {
      const recs = log.list({ limit: Number(flags.limit ?? 50) || 50 });
      if (flags.json) process.stdout.write(JSON.stringify(recs, null, 2) + '\n');
      else for (const r of recs) process.stdout.write(`${r.seq}\t${r.time}\t${r.principal ?? '-'}\t${r.remote}\t${r.action}\t${r.outcome} ${r.status}\n`);
      return 0;
    } finally {
      log.close();
    }
  },
};

export const auditCommands: Command[] = [auditVerifyCommand, auditListCommand];
