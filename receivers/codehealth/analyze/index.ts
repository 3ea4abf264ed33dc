/**
 * Analysis of one file: pick the language by extension, parse, classify every function.
 * Adding a language: write its module (a tree-sitter rules table, see python.ts) and list it here.
 */
import { extname } from 'node:path';
import { classify } from './rules';
import { pythonLanguage } from './python';
import { typescriptLanguage } from './typescript';
import type { FileAnalysis, Language } from './types';

export const LANGUAGES: readonly Language[] = [typescriptLanguage, pythonLanguage];

const byExtension = new Map<string, Language>();
for (const l of LANGUAGES) for (const e of l.extensions) byExtension.set(e, l);

export function languageOf(path: string): Language | undefined {
  if (path.endsWith('.d.ts')) return undefined; // declarations only: no bodies to judge
  return byExtension.get(extname(path).toLowerCase());
}

export function countLoc(text: string): number {
  let n = 0;
  let blank = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      if (!blank) n++;
      blank = true;
    } else if (c !== 32 && c !== 9 && c !== 13) blank = false;
  }
  return blank ? n : n + 1;
}

export async function analyzeSource(text: string, fileName: string, lang = languageOf(fileName)): Promise<FileAnalysis> {
  if (!lang) throw new Error(`no language for ${fileName}`);
  const shapes = await lang.functions(text, fileName);
  return {
    language: lang.name,
    loc: countLoc(text),
    functions: shapes.map((s) => ({ name: s.name, line: s.line, lines: s.lines, verdict: classify(s) })),
  };
}

export { classify, isTestFile } from './rules';
export * from './types';
