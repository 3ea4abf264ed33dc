/**
 * An analysis worker thread (see pool.ts): receives batches of file texts, answers with their
 * summaries in the same order. It reads nothing from disk itself; the scanner does, with its
 * safety checks.
 */
import { parentPort } from 'node:worker_threads';
import { summarizeSource, SummaryOutcome } from './summary';

export interface BatchRequest {
  id: number;
  files: Array<{ rel: string; text: string }>;
}
export interface BatchReply {
  id: number;
  outcomes: SummaryOutcome[];
}

parentPort?.on('message', async (req: BatchRequest) => {
  const outcomes: SummaryOutcome[] = [];
  for (const f of req.files) outcomes.push(await summarizeSource(f.text, f.rel));
  parentPort!.postMessage({ id: req.id, outcomes } satisfies BatchReply);
});
