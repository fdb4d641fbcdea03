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
});
