/**
 * Release artifacts (`npm run package`): the Grafana plugin as the zip Grafana installs (one folder
 * named after the plugin id, as `grafana cli plugins install --pluginUrl` and the plugin catalog
 * expect), and the service's Docker build context as a tarball (`docker build -f docker/Dockerfile
 * - < it`), each with a SHA-256 checksum file in `sha256sum`'s format, and `SHA256SUMS` for all.
 * Both are reproducible: fixed timestamps and owners, files in name order, so the same sources
 * give the same bytes and the same checksums.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';

export interface Artifact {
  file: string;
  sha256: string;
  bytes: number;
  entries: number;
}

interface Entry {
  name: string;
  data: Buffer;
  mode: number;
}

/** Every file under `dir`, relative, in name order ('/' separators). */
function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, prefix), { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  )) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(dir, rel));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

const executable = (file: string): number => ((statSync(file).mode & 0o111) !== 0 ? 0o755 : 0o644);

/** Writes `file` and `file.sha256` ("<hex>  <name>\n", as `sha256sum -c` reads it). */
function writeWithChecksum(file: string, data: Buffer, entries: number): Artifact {
  writeFileSync(file, data);
  const sha256 = createHash('sha256').update(data).digest('hex');
  writeFileSync(`${file}.sha256`, `${sha256}  ${path.basename(file)}\n`);
  return { file, sha256, bytes: data.length, entries };
}

// 1980-01-01 00:00, the earliest time a zip can say: the same bytes whenever it is built.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/**
 * A zip (deflate, UTF-8 names) of `entries`, with a directory entry for each folder: the format
 * of PKWARE's APPNOTE (local headers, central directory, end record), no zip64 (a plugin is a few MB).
 */
export function zip(entries: Entry[]): Buffer {
  const dirs = new Set<string>();
  for (const e of entries) {
    const parts = e.name.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`${parts.slice(0, i).join('/')}/`);
  }
  const all = [
    ...[...dirs].map((name) => ({ name, data: Buffer.alloc(0), mode: 0o40755 })),
    ...entries.map((e) => ({ ...e, mode: 0o100000 | e.mode })),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of all) {
    const name = Buffer.from(e.name, 'utf8');
    const isDir = e.name.endsWith('/');
    const body = isDir ? e.data : deflateRawSync(e.data, { level: 9 });
    const crc = crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // names are UTF-8
    local.writeUInt16LE(isDir ? 0 : 8, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, body);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, so the external attributes carry the mode
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(0x0800, 8);
    c.writeUInt16LE(isDir ? 0 : 8, 10);
    c.writeUInt16LE(DOS_TIME, 12);
    c.writeUInt16LE(DOS_DATE, 14);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(body.length, 20);
    c.writeUInt32LE(e.data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(((e.mode << 16) | (isDir ? 0x10 : 0)) >>> 0, 38);
    c.writeUInt32LE(offset, 42);
    central.push(c, name);
    offset += local.length + name.length + body.length;
  }
  const centralBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(all.length, 8);
  end.writeUInt16LE(all.length, 10);
  end.writeUInt32LE(centralBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralBytes, end]);
}

// 2000-01-01: a fixed time for every file of the tarball (0 makes GNU tar warn of an implausible date).
const TAR_MTIME = 946_684_800;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** A POSIX ustar archive of regular files, owned by root, at TAR_MTIME. */
export function tar(entries: Entry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    let name = e.name;
    let prefix = '';
    if (Buffer.byteLength(name) > 100) {
      const cut = name.lastIndexOf('/', name.length - 1);
      prefix = name.slice(0, cut);
      name = name.slice(cut + 1);
      if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155)
        throw new Error(`path too long for a tar header: ${e.name}`);
    }
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, 'utf8');
    h.write(octal(e.mode & 0o7777, 8), 100, 'ascii');
    h.write(octal(0, 8), 108, 'ascii');
    h.write(octal(0, 8), 116, 'ascii');
    h.write(octal(e.data.length, 12), 124, 'ascii');
    h.write(octal(TAR_MTIME, 12), 136, 'ascii');
    h.write('        ', 148, 'ascii'); // the checksum counts itself as spaces
    h.write('0', 156, 'ascii');
    h.write('ustar\u000000', 257, 'ascii');
    h.write('root', 265, 'ascii');
    h.write('root', 297, 'ascii');
    h.write(prefix, 345, 155, 'utf8');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    blocks.push(h, e.data, Buffer.alloc((512 - (e.data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** The plugin id and version from a built plugin's plugin.json (webpack fills in the version). */
export function pluginInfo(distDir: string): { id: string; version: string } {
  let json: { id?: unknown; info?: { version?: unknown } };
  try {
    json = JSON.parse(readFileSync(path.join(distDir, 'plugin.json'), 'utf8')) as typeof json;
  } catch (err) {
    throw new Error(
      `no built plugin in ${distDir} (${(err as Error).message}): run npm run build -w plugin first`,
    );
  }
  if (
    typeof json.id !== 'string' ||
    typeof json.info?.version !== 'string' ||
    json.info.version.includes('%')
  )
    throw new Error(`${distDir}/plugin.json has no id or no version: is it the built one?`);
  return { id: json.id, version: json.info.version };
}

/** `<id>-<version>.zip`: every file of the built plugin under the folder `<id>/`. */
export function packagePlugin(distDir: string, outDir: string): Artifact {
  const { id, version } = pluginInfo(distDir);
  const files = walk(distDir);
  const entries = files.map((f) => ({
    name: `${id}/${f}`,
    data: readFileSync(path.join(distDir, f)),
    mode: executable(path.join(distDir, f)),
  }));
  mkdirSync(outDir, { recursive: true });
  return writeWithChecksum(path.join(outDir, `${id}-${version}.zip`), zip(entries), entries.length);
}

/**
 * The paths a Dockerfile copies from its build context (COPY and ADD without --from), so the
 * context holds exactly what the build reads.
 */
export function dockerfileSources(dockerfile: string): string[] {
  const text = dockerfile.replace(/\\\r?\n/g, ' ');
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(COPY|ADD)\s+(.*)$/i.exec(line);
    if (!m) continue;
    const args = m[2]!.trim().split(/\s+/);
    if (args.some((a) => a.startsWith('--from'))) continue;
    const paths = args.filter((a) => !a.startsWith('--'));
    out.push(...paths.slice(0, -1));
  }
  return [...new Set(out)];
}

/** Files of the repository under `paths` that git would commit (tracked or new, not ignored). */
function sourceFiles(root: string, paths: string[]): string[] {
  const listed = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...paths],
    { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  )
    .split('\0')
    .filter((f) => f !== '');
  // A file deleted but not yet staged is still listed as cached.
  const present = listed.filter((f) => {
    try {
      return statSync(path.join(root, f)).isFile();
    } catch {
      return false;
    }
  });
  return [...new Set(present)].sort();
}

/**
 * `isoscope-service-<version>.tar.gz`: the Docker build context of docker/Dockerfile, i.e. the
 * Dockerfile and the sources it copies (no node_modules or build output: the image builds them).
 */
export function packageService(root: string, outDir: string): Artifact {
  const dockerfilePath = 'docker/Dockerfile';
  const version = (
    JSON.parse(readFileSync(path.join(root, 'backend/package.json'), 'utf8')) as { version: string }
  ).version;
  const sources = dockerfileSources(readFileSync(path.join(root, dockerfilePath), 'utf8'));
  const files = sourceFiles(root, [dockerfilePath, ...sources]);
  for (const s of sources)
    if (!files.some((f) => f === s || f.startsWith(`${s.replace(/\/$/, '')}/`)))
      throw new Error(`${dockerfilePath} copies '${s}', which the repository does not have`);
  const entries = files.map((f) => ({
    name: f,
    data: readFileSync(path.join(root, f)),
    mode: executable(path.join(root, f)),
  }));
  mkdirSync(outDir, { recursive: true });
  return writeWithChecksum(
    path.join(outDir, `isoscope-service-${version}.tar.gz`),
    gzipSync(tar(entries), { level: 9 }),
    entries.length,
  );
}

/** Both artifacts and SHA256SUMS listing them. */
export function packageAll(root: string, outDir: string): Artifact[] {
  const artifacts = [packagePlugin(path.join(root, 'plugin', 'dist'), outDir), packageService(root, outDir)];
  writeFileSync(
    path.join(outDir, 'SHA256SUMS'),
    artifacts.map((a) => `${a.sha256}  ${path.basename(a.file)}\n`).join(''),
  );
  return artifacts;
}
