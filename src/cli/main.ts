/** Entry point for running the CLI straight from the TypeScript sources (tests, development). */
import { exitQuietlyOnClosedPipe } from './epipe';
import { main } from './index';

exitQuietlyOnClosedPipe();

/**
 * Exit once what was written has been handed to the OS: output to a pipe is asynchronous, and an
 * immediate exit would cut a large report (a JSON dump, a long table) at the pipe's buffer size.
 * Writes are ordered, so an empty write's callback runs after every earlier one.
 */
function exitAfterOutput(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

main(process.argv.slice(2)).then(
  // Exit explicitly: a command is done when main resolves, whatever handles are left open.
  (code) => exitAfterOutput(code),
  (err) => {
    process.stderr.write(`error: ${(err as Error).stack ?? err}\n`);
    exitAfterOutput(1);
  },
);
