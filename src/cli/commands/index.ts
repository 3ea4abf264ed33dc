/** Feature commands (alerts, silences, query, ...): each module exports Command objects; list them here. */
import type { Command } from '../command';
import { alertingCommands } from './alerts';
import { queryCommands } from './query';

export const featureCommands: Command[] = [...alertingCommands, ...queryCommands];
