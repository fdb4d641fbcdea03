import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse as parseYaml, parseAllDocuments } from 'yaml';

/** The repository's root, found from this file so tests run from any working directory. */
export const repoRoot = path.resolve(__dirname, '..', '..');

export function repoPath(...parts: string[]): string {
  return path.join(repoRoot, ...parts);
}

export function readText(...parts: string[]): string {
  return readFileSync(repoPath(...parts), 'utf8');
}

export function readYaml<T = unknown>(...parts: string[]): T {
  return parseYaml(readText(...parts)) as T;
}

/** Every document of a multi-document YAML file (Kubernetes style), empty ones dropped. */
export function readYamlDocuments(...parts: string[]): unknown[] {
  return parseAllDocuments(readText(...parts))
    .map((doc) => doc.toJS() as unknown)
    .filter((doc) => doc !== null && doc !== undefined);
}

export function readJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readText(...parts)) as T;
}

/** Files under a folder of the repository, recursively, as paths relative to the root. */
export function listFiles(folder: string, predicate: (file: string) => boolean = () => true): string[] {
  const root = repoPath(folder);
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (predicate(full)) out.push(path.relative(repoRoot, full));
    }
  };
  walk(root);
  return out.sort();
}

/**
 * The names of the service's settings, from `.env.example`: the one documented list that compose,
 * Kubernetes and the service's config schema must agree with.
 */
export function documentedSettings(): Set<string> {
  const names = new Set<string>();
  for (const line of readText('.env.example').split('\n')) {
    const match = /^#?\s*(ISOSCOPE_[A-Z0-9_]+)=/.exec(line);
    if (match?.[1]) names.add(match[1]);
  }
  return names;
}

/** The Grafana plugin ids of the app and its nested plugins, from their plugin.json files. */
export function pluginIds(): Map<string, string> {
  const ids = new Map<string, string>();
  for (const file of listFiles('plugin/src', (f) => f.endsWith('plugin.json'))) {
    const json = readJson<{ id: string; type: string }>(file);
    ids.set(json.id, json.type);
  }
  return ids;
}

/**
 * The text of a file under test/fixtures/ (the data the tests carry inside the repository, see its
 * README); `name.gz` is unzipped. Tests never read the shared folder beside the repository: a fresh clone has nothing beside it.
 */
export function fixtureText(...parts: string[]): string {
  const file = repoPath('test', 'fixtures', ...parts);
  const bytes = readFileSync(file);
  return (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
}
