import { spawnSync } from 'node:child_process';
import { repoPath } from '../support/repo.js';

/**
 * The import table of docs/development.md, as ESLint enforces it: each case lints one line of
 * source as if it were a file at that path (eslint --stdin), including files at a folder's root,
 * which relative-depth patterns used to miss.
 */
/** Lints each [file, source] with the repository's ESLint config, in one process (loading it is slow). */
function lintAll(cases: Array<[string, string]>): string[][] {
  const script = `
    import { ESLint } from 'eslint';
    const cases = JSON.parse(await new Response(process.stdin).text());
    const eslint = new ESLint();
    const out = [];
    for (const [filePath, code] of cases) {
      const [result] = await eslint.lintText(code, { filePath });
      out.push(result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message));
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoPath(),
    input: JSON.stringify(cases),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as string[][];
}

describe('who imports whom (ESLint)', () => {
  const refused: Array<[string, string, RegExp]> = [
    [
      'backend/src/engine/probe.ts',
      "export { readWindow } from '../io/influx/index.js';",
      /may not import io/,
    ],
    [
      'backend/src/engine/forest/probe.ts',
      "export { buildApp } from '../../service/app.js';",
      /may not import service/,
    ],
    ['backend/src/engine/probe.ts', "export { readFileSync } from 'node:fs';", /engine is pure/],
    [
      'backend/src/io/probe.ts',
      "export { loadConfig } from '../service/config.js';",
      /may not import service/,
    ],
    ['backend/src/io/influx/probe.ts', "export { runCli } from '../../cli/main.js';", /may not import cli/],
    ['backend/src/service/probe.ts', "export { runCli } from '../cli/main.js';", /may not import cli/],
    [
      'backend/src/service/routes/probe.ts',
      "export { startLocalInflux } from '../../devtools/influxd.js';",
      /may not import devtools/,
    ],
    [
      'backend/src/parallel/probe.ts',
      "export { buildApp } from '../service/app.js';",
      /may not import service/,
    ],
    ['backend/src/cli/probe.ts', "export { runDemo } from '../demo/main.js';", /may not import demo/],
  ];
  const allowed: Array<[string, string]> = [
    ['backend/src/service/probe.ts', "export { readWindow } from '../io/influx/index.js';"],
    ['backend/src/io/probe.ts', "export { EngineError } from '../engine/index.js';"],
    ['backend/src/cli/probe.ts', "export { buildApp } from '../service/app.js';"],
    ['backend/src/engine/probe.ts', "export { ks2samp } from './drift/index.js';"],
  ];
  const results = lintAll([...refused.map(([f, s]): [string, string] => [f, `${s}\n`]), ...allowed]);

  it.each(refused.map((c, i) => [...c, i] as const))('%s: %s is refused', (_f, _s, says, i) => {
    expect(results[i]).toEqual([expect.stringMatching(says)]);
  });

  it.each(allowed.map((c, i) => [...c, refused.length + i] as const))('%s: %s is allowed', (_f, _s, i) => {
    expect(results[i]).toEqual([]);
  });
});
