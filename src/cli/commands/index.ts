/** Feature commands (alerts, silences, query, ...): each module exports Command objects; list them here. */
import type { Command } from '../command';

export const featureCommands: Command[] = [];
