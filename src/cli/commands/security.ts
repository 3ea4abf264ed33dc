/** Vigil's own security commands: audit, rekey, erase. */
import type { Command } from '../command';
import { auditCommands } from './audit';
import { rekeyCommand } from './rekey';

export const securityCommands: Command[] = [...auditCommands, rekeyCommand];
