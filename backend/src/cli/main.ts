import { oneLineMessage } from '../io/excerpt.js';
import { commands } from './commands.js';
import { UsageError } from './context.js';
import type { CliContext } from './context.js';

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'isoscope: anomaly detection for infrastructure metrics with isolation forests',
    '',
    'Usage: isoscope <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `isoscope <command> --help` for the options of one command.',
    '',
  ].join('\n');
}

/** Runs one `isoscope` command line and resolves to its exit code (0 ok, 1 a finding, 2 bad input). */
export async function runCli(
  argv: string[],
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    stderr.write(help());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    stdout.write(help());
    return 0;
  }
  if (name === '--version') {
    stdout.write('isoscope 0.1.0\n');
    return 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    stderr.write(`isoscope: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  // Commands load lazily so that `isoscope score` does not pay for the HTTP service's imports.
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    stdout.write(`${command.usage.trimEnd()}\n`);
    return 0;
  }
  const ctx: CliContext = { argv: rest, stdout, stderr };
  try {
    return await command.run(ctx);
  } catch (err) {
    if (isUserInputError(err)) {
      // One line, however much of the input the message quotes (a 200 MB cell stays an excerpt).
      stderr.write(`isoscope ${name}: ${oneLineMessage((err as Error).message)}\n`);
      return 2;
    }
    throw err;
  }
}

/** Errors caused by what the user gave us: printed as one line, exit code 2, no stack. */
function isUserInputError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof UsageError) return true;
  const code = (err as { code?: unknown }).code;
  return (
    err.name === 'EngineError' ||
    err.name === 'CsvError' ||
    (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
  );
}
