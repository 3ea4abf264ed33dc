import type { Consumer } from '../component';
import { Signal, cloneData } from '../model';

export interface Downstream<S extends Signal> {
  consumer: Consumer<S>;
  /** Whether it changes the data it is given. */
  mutates: boolean;
}

/**
 * One input to several consumers, as the Collector's fanoutconsumer: consumers that only read share
 * the original; each consumer that mutates gets its own clone, except that when nobody only reads,
 * the last mutating consumer may take the original. Every consumer is called even if one fails;
 * the first error is returned so the sender learns of it (a permanent error wins over a retryable
 * one only if every failure was permanent: otherwise a retry could still succeed).
 */
export function fanOut<S extends Signal>(signal: S, targets: Downstream<S>[]): Consumer<S> & { mutates: boolean } {
  if (targets.length === 1) return { consume: (d) => targets[0].consumer.consume(d), mutates: targets[0].mutates };
  const readers = targets.filter((t) => !t.mutates);
  const writers = targets.filter((t) => t.mutates);
  return {
    mutates: false,
    async consume(data) {
      const calls: Promise<void>[] = [];
      writers.forEach((w, i) => {
        const own = readers.length === 0 && i === writers.length - 1 ? data : cloneData(signal, data);
        calls.push(w.consumer.consume(own));
      });
      for (const r of readers) calls.push(r.consumer.consume(data));
      const results = await Promise.allSettled(calls);
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
      if (failures.length === 0) return;
      const retryable = failures.find((e) => !(e instanceof Error && e.name === 'PermanentError'));
      throw retryable ?? failures[0];
    },
  };
}
