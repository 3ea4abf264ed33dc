/** Vigil's own security commands: audit, rekey, erase. */
import type { Command } from '../command';
import { auditCommands } from './audit';
import { rekeyCommand } from './rekey';
import { eraseCommand } from './erase';

export const securityCommands: Command[] = [...auditCommands, rekeyCommand, eraseCommand];
