import { readFileSync } from 'node:fs';
import { analyzeSource } from '../../../receivers/codehealth/analyze';
(async () => {
  const which = process.argv[2];
  const text = readFileSync(which === 'py' ? 'test/fixtures/codehealth/labelled/dev/auth.py' : 'test/fixtures/codehealth/labelled/dev/orders.ts', 'utf8');
  for (let i = 0; i < 3000; i++) await analyzeSource(text, 'a.' + which);
})();
