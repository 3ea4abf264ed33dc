/**
 * The one place where component factories are registered. Add a line here for each new component.
 */
import type { Factory } from './component';

export const factories: Factory[] = [
];

export function findFactory(kind: Factory['kind'], type: string): Factory | undefined {
  return factories.find((f) => f.kind === kind && f.type === type);
}
