import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { dockerfileSources, packageAll, pluginInfo } from '../../backend/src/devtools/package.js';
import { repoPath, repoRoot, readText } from '../support/repo.js';
import { scratchDir } from '../support/scratch.js';
import { unzip } from '../support/zip.js';

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? filesUnder(dir, rel) : [rel];
  });
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('npm run package: the plugin zip and the service build context', () => {
  const dist = repoPath('plugin', 'dist');
  let out: string;

  beforeAll(() => {
    // `npm test` builds the plugin first; run alone, this file builds it.
    if (!existsSync(path.join(dist, 'plugin.json')))
      execFileSync('npm', ['run', 'build', '-w', 'plugin'], { cwd: repoRoot, stdio: 'ignore' });
    out = scratchDir('package');
    packageAll(repoRoot, out);
  }, 300_000);

  it('is an npm script that builds both, then packages', () => {
    const scripts = JSON.parse(readText('package.json')).scripts as Record<string, string>;
    expect(scripts.package).toBe(
      'npm run build -w backend && npm run build -w plugin && node backend/dist/devtools/package-main.js',
    );
    expect(existsSync(repoPath('backend/src/devtools/package-main.ts'))).toBe(true);
  });

  it('zips every file of the built plugin under a folder named after its id, as Grafana installs it', () => {
    const { id, version } = pluginInfo(dist);
    expect(id).toBe('isoscope-anomaly-app');
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    const zipped = unzip(readFileSync(path.join(out, `${id}-${version}.zip`)));
    const files = [...zipped.keys()].filter((n) => !n.endsWith('/'));
    expect(files.every((n) => n.startsWith(`${id}/`))).toBe(true);
    expect(files.map((n) => n.slice(id.length + 1)).sort()).toEqual(filesUnder(dist).sort());
    for (const f of filesUnder(dist))
      expect({ f, same: zipped.get(`${id}/${f}`)!.data.equals(readFileSync(path.join(dist, f))) }).toEqual({
        f,
        same: true,
      });
    for (const needed of ['plugin.json', 'module.js', 'datasource/plugin.json', 'panel/plugin.json'])
      expect(zipped.has(`${id}/${needed}`)).toBe(true);
    expect(JSON.parse(zipped.get(`${id}/plugin.json`)!.data.toString()).id).toBe(id);
    expect(zipped.get(`${id}/`)!.mode & 0o40000).toBe(0o40000);
    expect(zipped.get(`${id}/plugin.json`)!.mode).toBe(0o100644);
  });

  it('writes a SHA-256 checksum beside each artifact (sha256sum -c format) and SHA256SUMS for both', () => {
    const names = readdirSync(out).sort();
    const [zipName] = names.filter((n) => n.endsWith('.zip'));
    const [tarName] = names.filter((n) => n.endsWith('.tar.gz'));
    expect(names).toEqual(['SHA256SUMS', zipName, `${zipName}.sha256`, tarName, `${tarName}.sha256`].sort());
    for (const n of [zipName!, tarName!])
      expect(readFileSync(path.join(out, `${n}.sha256`), 'utf8')).toBe(
        `${sha256(path.join(out, n))}  ${n}\n`,
      );
    expect(readFileSync(path.join(out, 'SHA256SUMS'), 'utf8')).toBe(
      [zipName!, tarName!].map((n) => `${sha256(path.join(out, n))}  ${n}\n`).join(''),
    );
    // sha256sum itself agrees.
    expect(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out, encoding: 'utf8' })).toBe(
      `${zipName}: OK\n${tarName}: OK\n`,
    );
  });

  it('is reproducible: the same sources give the same bytes', () => {
    const again = scratchDir('package-again');
    packageAll(repoRoot, again);
    expect(readFileSync(path.join(again, 'SHA256SUMS'), 'utf8')).toBe(
      readFileSync(path.join(out, 'SHA256SUMS'), 'utf8'),
    );
  });

  it('puts in the build context what docker/Dockerfile copies, and no dependencies or build output', () => {
    const sources = dockerfileSources(readText('docker/Dockerfile'));
    expect(sources).toEqual([
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'plugin/package.json',
      'backend',
    ]);
    const [tarName] = readdirSync(out).filter((n) => n.endsWith('.tar.gz'));
    expect(tarName).toBe(`isoscope-service-${JSON.parse(readText('backend/package.json')).version}.tar.gz`);
    // GNU tar reads it: an independent check of the format.
    const listed = execFileSync('tar', ['-tzf', path.join(out, tarName!)], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(listed).toContain('docker/Dockerfile');
    for (const s of sources)
      expect({ s, present: listed.some((f) => f === s || f.startsWith(`${s}/`)) }).toEqual({
        s,
        present: true,
      });
    expect(listed.filter((f) => /(^|\/)(node_modules|dist|\.data)\//.test(f))).toEqual([]);
    const tracked = execFileSync('git', ['ls-files', 'backend/src'], { cwd: repoRoot, encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter((f) => existsSync(repoPath(f)));
    expect(tracked.filter((f) => !listed.includes(f))).toEqual([]);
    const unpacked = scratchDir('context');
    execFileSync('tar', ['-xzf', path.join(out, tarName!), '-C', unpacked]);
    for (const f of ['package-lock.json', 'backend/package.json', 'backend/src/service/app.ts'])
      expect(readFileSync(path.join(unpacked, f)).equals(readFileSync(repoPath(f)))).toBe(true);
    expect(statSync(path.join(unpacked, 'backend/bin/isoscope.js')).mode & 0o111).not.toBe(0);
  });

  it('says what is missing when the plugin is not built', () => {
    expect(() => pluginInfo(scratchDir('no-plugin'))).toThrow(
      /no built plugin in .*: run npm run build -w plugin first/,
    );
  });
});
