import { yAxisSize } from './chartConfig';

const metric = (values: number[], unit?: string) => ({ name: 'm', unit, time: values.map((_, i) => i), values });

describe('yAxisSize', () => {
  it('leaves room for the longest tick label, so none is cut at the left edge', () => {
    const percent = yAxisSize([metric([0, 55, 100], 'percent')]);
    const bytes = yAxisSize([metric([0, 3.2e9], 'bytes')]);
    // "110%" at 7.5 px a character, with the tick and gap.
    expect(percent).toBe(Math.ceil(4 * 7.5) + 18);
    // "3.52 GiB" is longer than "110%".
    expect(bytes).toBeGreaterThan(percent);
    expect(bytes).toBeGreaterThanOrEqual(8 * 7);
    // The expected range widens the range the labels cover.
    expect(yAxisSize([{ ...metric([1, 2]), expected: { low: -12000, high: 5 } }])).toBeGreaterThan(
      yAxisSize([metric([1, 2])])
    );
  });
});
