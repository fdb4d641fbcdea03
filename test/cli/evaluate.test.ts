import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoscope } from '../support/cli.js';
import { scratchDir } from '../support/scratch.js';

describe('isoscope evaluate', () => {
  const dir = scratchDir('evaluate');
  const scores = join(dir, 'scores.csv');
  const labels = join(dir, 'labels.csv');
  // Hand-computed: labels 0 0 1 1 0 1 0 0, scores ranked so that ROC-AUC = 14/15 (0.45 loses to 0.5 only),
  // AP = (1 + 1 + 3/4)/3 = 11/12, best F1 6/7 at 0.45.
  writeFileSync(
    scores,
    'timestamp,score,is_anomaly,top_feature\n1,0.1,0,\n2,0.4,0,\n3,0.9,1,cpu\n4,0.8,1,cpu\n5,0.5,1,mem\n6,0.45,0,\n7,0.2,0,\n8,0.3,0,\n',
  );
  writeFileSync(labels, 'timestamp,cpu,label\n1,0,0\n2,0,0\n3,0,1\n4,0,1\n5,0,0\n6,0,1\n7,0,0\n8,0,0\n');

  it('reports ROC-AUC, PR-AUC, best F1, the confusion matrix and incidents as JSON', () => {
    const r = isoscope(['evaluate', '--scores', scores, '--labels', labels, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, unknown> & {
      flags: Record<string, number>;
      events: Record<string, number>;
    };
    expect(report.rows).toBe(8);
    expect(report.rocAuc).toBeCloseTo(14 / 15, 12);
    expect(report.prAuc).toBeCloseTo(11 / 12, 12);
    expect(report.bestF1).toEqual({ f1: expect.closeTo(6 / 7, 12), threshold: 0.45 });
    expect(report.flags).toMatchObject({
      truePositives: 2,
      falsePositives: 1,
      falseNegatives: 1,
      trueNegatives: 4,
    });
    expect(report.events).toMatchObject({ found: 1, total: 2, falseAlarmRuns: 0, medianDelayRows: 0 });
  });

  it('prints a readable report with a score histogram, and draws the PR curve', () => {
    const plot = join(dir, 'pr.svg');
    const r = isoscope(['evaluate', '--scores', scores, '--labels', labels, '--plot', plot]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ROC-AUC 0.9333   PR-AUC 0.9167');
    expect(r.stdout).toContain('incidents found 1/2');
    expect(r.stdout).toContain('score histogram');
    expect(readFileSync(plot, 'utf8')).toMatch(/^<svg[^>]*>[\s\S]*<path d="M/);
  });

  it('refuses files that do not line up, and a scores file without scores', () => {
    const short = join(dir, 'short.csv');
    writeFileSync(short, 'score\n0.5\n');
    const r = isoscope(['evaluate', '--scores', short, '--labels', labels]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('has 1 rows');
    const none = join(dir, 'none.csv');
    writeFileSync(none, 'value\n0.5\n');
    expect(isoscope(['evaluate', '--scores', none, '--labels', labels]).stderr).toContain(
      "no 'score' column",
    );
  });

  describe("the operator's view of the decisions", () => {
    // 40 rows one minute apart; incidents on rows 10–19 and 30–32; flags on rows 13 and 25.
    const start = Date.parse('2026-12-01T00:00:00Z');
    const iso = (i: number): string => new Date(start + i * 60_000).toISOString();
    const opScores = join(dir, 'op-scores.csv');
    const opLabels = join(dir, 'op-labels.csv');
    const score = (i: number): number => (i === 13 ? 0.9 : i === 30 ? 0.85 : i === 25 ? 0.8 : 0.1);
    writeFileSync(
      opScores,
      'timestamp,score,is_anomaly,top_feature\n' +
        Array.from(
          { length: 40 },
          (_, i) => `${iso(i)},${score(i)},${i === 13 || i === 25 ? 1 : 0},cpu\n`,
        ).join(''),
    );
    writeFileSync(
      opLabels,
      'timestamp,host,cpu,label\n' +
        Array.from(
          { length: 40 },
          (_, i) =>
            `${iso(i)},${i % 2 ? 'db-1' : 'web-1'},${i},${(i >= 10 && i <= 19) || (i >= 30 && i <= 32) ? 1 : 0}\n`,
        ).join(''),
    );

    it('gives incidents found, delays in rows and time, episodes, false episodes per series-day and the NAB-style score', () => {
      const r = isoscope(['evaluate', '--scores', opScores, '--labels', opLabels, '--json']);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout) as {
        operator: Record<string, number>;
        nab: { decisions: Record<string, number>; best: Record<string, number> };
      };
      // Row 13 is 3 rows (3 minutes) into the first incident; the flag at 25 is 12 rows later,
      // so a second episode, overlapping no incident; 39 minutes of one series.
      expect(report.operator).toMatchObject({
        incidents: 2,
        found: 1,
        medianDelayRows: 3,
        medianDelayMs: 180_000,
        episodes: 2,
        trueEpisodes: 1,
        falseEpisodes: 1,
        eventPrecision: 0.5,
      });
      expect(report.operator.falseEpisodesPerSeriesDay).toBeCloseTo(1440 / 39, 9);
      // NAB windows: ⌊0.1·40/2⌋ = 2 rows, so each incident ± 1 row: 9–20 and 29–33; rows 0–5 probation.
      // Row 13 earns tanh(2.5·8/12)/tanh(2.5) = 0.94374…; row 25 costs 0.11·tanh(2.5·5/11) = 0.08945…;
      // the second window is missed (−1): 100·(−0.14571 + 2)/4.
      expect(report.nab.decisions.score).toBeCloseTo(46.35729506, 6);
      // Best threshold: score ≥ 0.85 adds row 30, the second row of window 29–33, and no false row.
      expect(report.nab.best.threshold).toBe(0.85);
      expect(report.nab.best.score).toBeCloseTo(98.02122755, 6);
    });

    it('leaves the probationary rows out of the NAB-style score (--probation)', () => {
      const r = isoscope([
        'evaluate',
        '--scores',
        opScores,
        '--labels',
        opLabels,
        '--probation',
        '0.5',
        '--json',
      ]);
      expect(r.code).toBe(0);
      const { nab } = JSON.parse(r.stdout) as { nab: { decisions: Record<string, number> } };
      // Rows 0–19 unscored: the flag at 13 no longer counts, window 9–20 (its row 20 scored) is
      // missed like 29–33; row 25 still costs 0.08945…: 100·(−2.08945 + 2)/4.
      expect(nab.decisions).toMatchObject({ windows: 2, detected: 0, falsePositiveRows: 1 });
      expect(nab.decisions.score).toBeCloseTo(-2.23626147, 6);
      const bad = isoscope(['evaluate', '--scores', opScores, '--labels', opLabels, '--probation', '1']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--probation must be a share in [0, 1)');
    });

    it('prints the delays in time units and the operator lines beside PR-AUC', () => {
      const r = isoscope(['evaluate', '--scores', opScores, '--labels', opLabels]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('incidents found 1/2 (event recall 0.50), median delay 3 rows (3 min)');
      expect(r.stdout).toContain(
        'alert episodes 2 (flags < 10 rows apart): 1 overlap an incident, 1 false; event precision 0.50',
      );
      expect(r.stdout).toContain('false episodes per series-day 36.92');
      expect(r.stdout).toMatch(
        /NAB-style score .*: 46\.4 at the detector's decisions, 98\.0 at its best threshold \(score ≥ 0\.85\)/,
      );
    });

    it('finds incidents and episodes per series with --series-column', () => {
      const r = isoscope([
        'evaluate',
        '--scores',
        opScores,
        '--labels',
        opLabels,
        '--series-column',
        'host',
        '--json',
      ]);
      expect(r.code).toBe(0);
      const { operator } = JSON.parse(r.stdout) as { operator: Record<string, number> };
      // Rows alternate between two hosts: each holds half of each incident. Rows 13 and 25 are db-1's
      // 7th and 13th rows, 6 of its rows apart: one episode, true as it starts in an incident.
      expect(operator).toMatchObject({ series: 2, incidents: 4, found: 1, episodes: 1, falseEpisodes: 0 });
      const missing = isoscope([
        'evaluate',
        '--scores',
        opScores,
        '--labels',
        opLabels,
        '--series-column',
        'rack',
      ]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("'rack'");
    });

    it('draws plots with tick labels, the threshold and the decisions, and a time plot with incidents shaded', () => {
      const plot = join(dir, 'op.svg');
      const timePlot = join(dir, 'op-time.svg');
      const r = isoscope([
        'evaluate',
        '--scores',
        opScores,
        '--labels',
        opLabels,
        '--threshold',
        '0.5',
        '--plot',
        plot,
        '--plot-time',
        timePlot,
      ]);
      expect(r.code).toBe(0);
      const svg = readFileSync(plot, 'utf8');
      expect(svg).toContain('>0.2</text>'); // PR curve ticks
      expect(svg).toContain('threshold 0.5');
      expect(svg).toContain('is_anomaly (P 0.50, R 0.08)');
      const time = readFileSync(timePlot, 'utf8');
      expect(time).toContain('>12-01 00:10</text>'); // a UTC time tick
      expect(time.match(/labelled incident, rows/g)).toHaveLength(2);
      expect(time).toContain('<title>threshold</title>');
      expect(time).toContain('<title>flagged rows</title>');
    });
  });
});
