import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/**
 * A fresh directory under the system's temp dir, removed when the test file ends. Import this module
 * statically at the top of a test file: jest takes the `afterAll` only there.
 */
export function scratchDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `isoscope-${name}-`));
  made.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
