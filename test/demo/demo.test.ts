import { spawnSync } from 'node:child_process';
import { repoPath, repoRoot } from '../support/repo.js';

/**
 * `npm run demo` as a user runs it: a real influxd, the service, nine days of Telegraf metrics with
 * injected incidents. The bar is what an operator would accept from a first run, not the exact
 * numbers the README quotes.
 */
describe('npm run demo', () => {
  it('finds most incidents, explains them, and rarely pages for nothing', () => {
    const r = spawnSync(process.execPath, [repoPath('backend', 'dist', 'demo', 'main.js')], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    expect(r.stderr).toContain('demo: wrote');
    expect(r.status).toBe(0);
    const last = r.stdout.trim().split('\n').at(-1)!;
    const m =
      /^demo: incidents found (\d+)\/(\d+), false alarms per host-day ([\d.]+), precision ([\d.]+), recall ([\d.]+)$/.exec(
        last,
      );
    expect(m).not.toBeNull();
    const [, found, total, falseAlarms] = m!.map(Number);
    expect(found! / total!).toBeGreaterThanOrEqual(0.75);
    expect(falseAlarms).toBeLessThanOrEqual(0.5);
    expect(r.stdout).toMatch(/✓ .* alert after \d+ min; top: \w+\.\w+/);
    // Flags are counted as well as alerts: an operator reading the results meets every flagged minute.
    const flags =
      /^Flagged minutes: (\d+) host-minutes flagged, (\d+) of them outside the injected incidents \([\d.]+ per host-day\); the service grouped the flags into (\d+) incidents \(per detector and host\), (\d+) of them on an injected incident, (\d+) not\.$/m.exec(
        r.stdout,
      );
    expect(flags).not.toBeNull();
    const [, flagged, outside, grouped, onInjected, notOn] = flags!.map(Number);
    expect(outside).toBeLessThanOrEqual(flagged!);
    expect(onInjected! + notOn!).toBe(grouped);
    expect(onInjected).toBeGreaterThanOrEqual(found!);
  }, 600_000);

  it('takes its options through npm (`npm run demo -- --keep`), and refuses unknown ones with exit 2', () => {
    const r = spawnSync('npm', ['run', '--silent', 'demo', '--', '--no-such-option'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toContain('demo: unknown option --no-such-option');
    expect(r.stderr).toContain('--keep');
    expect(r.status).toBe(2);
  });
});
