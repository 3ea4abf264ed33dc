/** Entry point for running the CLI straight from the TypeScript sources (tests, development). */
import { exitQuietlyOnClosedPipe } from './epipe';
import { main } from './index';

exitQuietlyOnClosedPipe();

main(process.argv.slice(2)).then(
  // Exit explicitly: a command is done when main resolves, whatever handles are left open.
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`error: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
