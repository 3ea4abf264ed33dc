/**
 * Config checks about durability, reported by `vigil validate` (and at start) as warnings.
 *
 * The `batch` processor answers the receiver as soon as it holds the data; when the data then goes
 * to a persistent queue or to the sqlite store with `durability: acknowledged`, the sender got its
 * success answer before the data was safe, and a crash loses what the batch held (the Collector's
 * batch-before-persistent-queue trap). Derived data (pipelines fed only by connectors) is exempt:
 * nobody outside was answered for it.
 */
export interface LintPipeline {
  id: string;
  receivers: string[];
  processors: string[];
  exporters: string[];
}

export interface LintComponent {
  type: string;
  config: Record<string, unknown>;
}

/** Why an exporter makes its acknowledgement a promise of durability, or undefined. */
export function durableReason(c: LintComponent): string | undefined {
  const q = c.config.sending_queue as { enabled?: boolean; storage?: string } | undefined;
  if (q?.storage && q.enabled !== false) return `its persistent sending queue (storage ${q.storage})`;
  if (c.type === 'sqlite' && (c.config.durability ?? 'acknowledged') === 'acknowledged') return 'its commit (durability: acknowledged)';
  return undefined;
}

export function batchBeforeDurableWarnings(
  pipelines: LintPipeline[],
  processors: ReadonlyMap<string, LintComponent>,
  exporters: ReadonlyMap<string, LintComponent>,
  connectors: ReadonlyMap<string, unknown>,
): Array<{ path: Array<string | number>; message: string }> {
  const out: Array<{ path: Array<string | number>; message: string }> = [];
  for (const p of pipelines) {
    if (p.receivers.every((r) => connectors.has(r))) continue;
    const durable = p.exporters.map((id) => [id, exporters.get(id) && durableReason(exporters.get(id)!)] as const).filter(([, why]) => why);
    if (durable.length === 0) continue;
    p.processors.forEach((id, i) => {
      if (processors.get(id)?.type !== 'batch') return;
      const [ex, why] = durable[0];
      out.push({
        path: ['service', 'pipelines', p.id, 'processors', i],
        message: `"${id}" answers the receiver before the data reaches exporter "${ex}" and ${why}: a crash loses what the batch holds, though the sender was told it was received. Remove it from this pipeline: the sqlite store groups commits by itself, and a persistent queue batches after the disk with sending_queue.batch.`,
      });
    });
  }
  return out;
}
