import {
  betterByVerdicts,
  countByVerdicts,
  countsText,
  hasVerdicts,
  type JudgedIncident,
} from './promotion.js';

const MIN = 60_000;

/** Minute rows 0…n-1, flagged at the given minutes. */
const rows = (n: number, flagged: number[]) =>
  Array.from({ length: n }, (_, i) => ({ timeMs: i * MIN, anomaly: flagged.includes(i) }));
const at = (from: number, to: number, verdict?: JudgedIncident['verdict']): JudgedIncident => ({
  startAt: from * MIN,
  endAt: to * MIN,
  ...(verdict ? { verdict } : {}),
});

describe('counting a model against verdicts', () => {
  const incidents = [
    at(10, 20, 'real'),
    at(40, 45, 'not_anomaly'),
    at(60, 62, 'expected'),
    at(80, 85), // nobody judged it
    at(100, 110, 'real'),
  ];

  it('finds real incidents it flags within one interval of their span', () => {
    expect(countByVerdicts(rows(120, [15]), incidents, MIN)).toEqual({ found: 1, real: 2, falseAlarms: 0 });
    expect(countByVerdicts(rows(120, [9, 111]), incidents, MIN)).toMatchObject({ found: 2 });
    expect(countByVerdicts(rows(120, [8, 112]), incidents, MIN)).toMatchObject({ found: 0 });
  });

  it('counts as false alarms the not-an-anomaly incidents it flags and each episode outside every incident', () => {
    // In the not-an-anomaly incident twice: one false alarm; one episode alone (25-28) and one more (55).
    expect(countByVerdicts(rows(120, [41, 44, 25, 28, 55]), incidents, MIN)).toEqual({
      found: 0,
      real: 2,
      falseAlarms: 3,
    });
    // Episodes inside an expected or an unjudged incident count neither way.
    expect(countByVerdicts(rows(120, [61, 82, 84]), incidents, MIN)).toEqual({
      found: 0,
      real: 2,
      falseAlarms: 0,
    });
    // An episode that runs on from a real incident is the incident's, not a false alarm.
    expect(countByVerdicts(rows(120, [18, 22, 26]), incidents, MIN)).toEqual({
      found: 1,
      real: 2,
      falseAlarms: 0,
    });
  });

  it('judges the candidate better when it finds as many real incidents with no more false alarms', () => {
    const c = (found: number, falseAlarms: number) => ({ found, real: 2, falseAlarms });
    expect(betterByVerdicts(c(2, 1), c(2, 1))).toBe(true);
    expect(betterByVerdicts(c(2, 0), c(1, 3))).toBe(true);
    expect(betterByVerdicts(c(1, 0), c(2, 5))).toBe(false);
    expect(betterByVerdicts(c(2, 2), c(2, 1))).toBe(false);
    expect(countsText(c(1, 1))).toBe('finds 1 of 2 real incidents, 1 false alarm');
  });

  it('has verdicts to judge by only when an incident is judged real or not an anomaly', () => {
    expect(hasVerdicts([at(1, 2), at(3, 4, 'expected')])).toBe(false);
    expect(hasVerdicts([at(1, 2), at(3, 4, 'not_anomaly')])).toBe(true);
    expect(hasVerdicts([])).toBe(false);
  });
});
