/** What a command gets from the outside world: its arguments and where to write. */
export interface CliContext {
  argv: string[];
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** One `isoscope` command; a module per command exports one of these as `command`. */
export interface CliCommand {
  usage: string;
  /** Resolves to the exit code: 0 ok, 1 a finding (a failed check), 2 bad input. */
  run(ctx: CliContext): Promise<number>;
}

/** Input the user must fix: printed as one line without a stack, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
