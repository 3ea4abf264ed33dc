#!/usr/bin/env node
'use strict';
// Runs the compiled CLI (npm install / npm ci build it into dist/ through the "prepare" script).
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('vigil is not built yet: run "npm run build" (npm install does it for you).\n');
  process.exit(1);
}
require(entry);
