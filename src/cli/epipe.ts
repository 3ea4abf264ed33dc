/**
 * `vigil components | head`: when the reader goes away, writing to stdout fails with EPIPE. That
 * is the reader's choice, not an error: exit quietly with 0, as Unix tools do. Kept free of imports
 * so that it is installed before anything else loads.
 */
export function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
}
