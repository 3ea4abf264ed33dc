/** A `vigil` subcommand. `run` returns the process exit code. */
export interface Command {
  /** One word, or two for grouped commands ("alerts list"). */
  name: string;
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}
