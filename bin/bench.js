#!/usr/bin/env node
'use strict';
// The harness is TypeScript compiled to dist/ by `npm run build` (run by `npm install` via prepare).
const path = require('node:path');
const fs = require('node:fs');

const compiled = path.join(__dirname, '..', 'dist', 'bench', 'cli.js');
if (!fs.existsSync(compiled)) {
  process.stderr.write('bench: dist/bench/cli.js is missing; run `npm run build` first\n');
  process.exit(2);
}
require(compiled)
  .main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err) => {
    process.stderr.write(`bench: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
