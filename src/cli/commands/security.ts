/** Vigil's own security commands: audit, rekey, erase. */
import type { Command } from '../command';
import { auditCommands } from './audit';

export const securityCommands: Command[] = [...auditCommands];
