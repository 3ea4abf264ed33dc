// Builds the console into console/dist: one JS bundle (preact + uPlot + the app) and one CSS file,
// no CDN and nothing fetched at run time. Run by `npm run build`; `node console/build.mjs --watch` for work on it.
import { build, context } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });
copyFileSync(join(here, 'index.html'), join(out, 'index.html'));

const options = {
  entryPoints: { app: join(here, 'src', 'main.tsx'), style: join(here, 'src', 'style.css') },
  outdir: join(out, 'assets'),
  bundle: true,
  minify: !process.argv.includes('--dev'),
  sourcemap: false,
  format: 'esm',
  target: ['es2020'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
};

if (process.argv.includes('--watch')) {
  const ctx = await context(options);
  await ctx.watch();
} else {
  await build(options);
}
