/**
 * `npm run package` (after building the backend and the plugin): writes the plugin zip, the
 * service's Docker build context and their checksums to `dist/` at the repository's root, or to
 * `--out <dir>`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageAll } from './package.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const at = process.argv.indexOf('--out');
const unknown = process.argv.slice(2).filter((a, i, all) => a !== '--out' && all[i - 1] !== '--out');
if (unknown.length > 0 || (at >= 0 && !process.argv[at + 1])) {
  process.stderr.write(`usage: npm run package [-- --out <dir>] (got ${process.argv.slice(2).join(' ')})\n`);
  process.exit(2);
}
const out = at >= 0 ? path.resolve(process.argv[at + 1]!) : path.join(root, 'dist');
try {
  for (const a of packageAll(root, out)) {
    process.stdout.write(
      `${path.relative(process.cwd(), a.file)}  ${(a.bytes / 1e6).toFixed(2)} MB, ${a.entries} files, sha256 ${a.sha256}\n`,
    );
  }
  process.stdout.write(
    `\nInstall the plugin: unzip it into Grafana's plugins folder (see docs/getting-started.md).\n` +
      `Build the service image: docker build -f docker/Dockerfile -t isoscope/service - < ${path.relative(process.cwd(), path.join(out, 'isoscope-service-*.tar.gz'))}\n`,
  );
} catch (err) {
  process.stderr.write(`package: ${(err as Error).message}\n`);
  process.exit(2);
}
