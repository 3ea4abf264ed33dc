/**
 * The node flags that let a child process run the TypeScript sources the way tap runs this one.
 * tap passes `--import=tsx --require=tsx/cjs`, which node resolves from the working directory; a child
 * started elsewhere (a temp dir) would not find them, so bare specifiers become absolute paths.
 */
import { pathToFileURL } from 'node:url';

export function loaderArgs(): string[] {
  const out: string[] = [];
  for (const a of process.execArgv) {
    const m = /^(--import|--require|-r)(=?)(.*)$/.exec(a);
    if (m) {
      const spec = m[3];
      const bare = spec !== '' && !spec.startsWith('file:') && !spec.startsWith('/');
      // --import takes a URL, --require a path.
      const absolute = !bare ? spec : m[1] === '--import' ? pathToFileURL(require.resolve(spec)).href : require.resolve(spec);
      out.push(`${m[1]}=${absolute}`);
    } else if (a === '--enable-source-maps') out.push(a);
  }
  return out;
}
