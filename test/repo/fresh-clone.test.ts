import { existsSync } from 'node:fs';
import { listFiles, readText, repoPath } from '../support/repo.js';

/**
 * A fresh clone has nothing beside it (`.ci/run` runs the suite in one): tests carry their data in
 * test/fixtures/ and never name the project's shared data folder beside the repository, which only
 * benchmarks may read when it is present.
 */
describe('the tests run from a fresh clone', () => {
  const testFiles = [
    ...listFiles('test', (f) => f.endsWith('.ts')),
    ...listFiles('backend/src', (f) => f.endsWith('.test.ts')),
    ...listFiles('plugin/src', (f) => /\.test\.tsx?$/.test(f)),
  ].filter((f) => f !== 'test/repo/fresh-clone.test.ts');

  it('finds the test files it checks', () => expect(testFiles.length).toBeGreaterThan(20));

  it.each(testFiles)('%s does not read the shared folder beside the repository', (file) => {
    const code = readText(file)
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    expect(code).not.toMatch(/\.\.\/shared\b|['"`]shared['"`]/);
  });

  it('every fixture the tests name is committed under test/fixtures/', () => {
    const named = new Set<string>();
    for (const file of testFiles)
      for (const m of readText(file).matchAll(/fixtureText\(([^)]*)\)/g))
        if (/^\s*'[^']+'(\s*,\s*'[^']+')*\s*$/.test(m[1]!))
          named.add([...m[1]!.matchAll(/'([^']+)'/g)].map((p) => p[1]).join('/'));
    expect(named.size).toBeGreaterThan(0);
    for (const rel of named)
      expect([rel, existsSync(repoPath('test', 'fixtures', rel))]).toEqual([rel, true]);
  });
});
