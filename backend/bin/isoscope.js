#!/usr/bin/env node
// The `isoscope` command. Runs the compiled CLI (built by `npm ci` through the root `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    'isoscope: the backend is not built yet; run `npm run build -w backend` (npm ci does it).\n',
  );
  process.exit(2);
}
const { runCli } = await import(main.href);
process.exitCode = await runCli(process.argv.slice(2));
