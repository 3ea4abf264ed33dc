/**
 * One file reduced to what a scan keeps: counts and the stub list. The same function runs in the
 * scanner's thread and in the analysis workers (pool.ts), so both give identical results.
 */
import { analyzeSource, countLoc, isTestFile } from './index';
import type { StubKind } from './types';

export interface SourceSummary {
  loc: number;
  functions: number;
  implemented: number;
  exempt: number;
  stubs: Array<{ line: number; function: string; kind: StubKind }>;
}

export type SummaryOutcome = { ok: SourceSummary } | { syntaxError: string };

/** Summarise one source file; a parse failure comes back as `syntaxError`, never as a throw. */
export async function summarizeSource(text: string, rel: string): Promise<SummaryOutcome> {
  const summary: SourceSummary = { loc: 0, functions: 0, implemented: 0, exempt: 0, stubs: [] };
  // Every function, method or lambda in either language has a parameter list: a file without "("
  // (constants, re-exports, type-only modules) holds none, and is not parsed at all.
  if (!text.includes('(')) {
    summary.loc = countLoc(text);
    return { ok: summary };
  }
  try {
    const a = await analyzeSource(text, rel);
    summary.loc = a.loc;
    // Functions in test files are helpers and fixtures: the file is counted, its functions are not.
    if (!isTestFile(rel)) {
      for (const f of a.functions) {
        summary.functions++;
        if (f.verdict.status === 'implemented') summary.implemented++;
        else if (f.verdict.status === 'exempt') summary.exempt++;
        else summary.stubs.push({ line: f.line, function: f.name, kind: f.verdict.kind });
      }
    }
    return { ok: summary };
  } catch (e) {
    return { syntaxError: (e as Error).message.slice(0, 200) };
  }
}
