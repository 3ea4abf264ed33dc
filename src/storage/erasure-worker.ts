/** Runs one erasure off the main thread (see eraseSubjectInWorker in erasure.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { eraseSubjectFromStore } from './erasure';

const { path, subject, keys } = workerData as { path: string; subject: string; keys: string[] };
try {
  parentPort!.postMessage({ report: eraseSubjectFromStore(path, subject, keys) });
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message });
}
