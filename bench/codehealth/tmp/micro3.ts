import { readFileSync } from 'node:fs';
import { typescriptLanguage } from '../../../receivers/codehealth/analyze/typescript';
import * as ts from 'typescript';
const text = readFileSync(process.argv[2] ?? 'test/fixtures/codehealth/labelled/dev/orders.ts', 'utf8');
const N = 2000;
for (let r = 0; r < 2; r++) {
let t0 = performance.now();
for (let i = 0; i < N; i++) typescriptLanguage.functions(text, 'a.ts');
const a = (performance.now() - t0) / N;
t0 = performance.now();
for (let i = 0; i < N; i++) ts.createSourceFile('a.ts', text, { languageVersion: ts.ScriptTarget.Latest, jsDocParsingMode: ts.JSDocParsingMode.ParseNone }, false, ts.ScriptKind.TS);
const b = (performance.now() - t0) / N;
console.log('functions()', a.toFixed(3), 'parse', b.toFixed(3));
}
