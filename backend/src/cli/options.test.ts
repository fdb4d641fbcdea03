import { thresholdForAlertBudget } from '../engine/index.js';
import { DetectorSpec } from '../service/schemas/index.js';
import { parseMetricsCsv } from '../io/csv/index.js';
import { alertBudgetThreshold, columnFlags, DEFAULT_ALERT_RULE, entityIds } from './options.js';

describe('the default decision rule', () => {
  it("is the service's: the detector schema's default alert rule", () => {
    const alerting = DetectorSpec.properties.alerting.properties;
    const defaultOf = (schema: object): unknown => (schema as { default?: unknown }).default;
    expect(DEFAULT_ALERT_RULE).toEqual({
      window: defaultOf(alerting.window),
      minAnomalous: defaultOf(alerting.minAnomalous),
    });
  });

  it('is the lowest threshold at which the rule, one point more sensitive, raises no alert', () => {
    // A lone high score is allowed (2 of 5 do not fire on one point); two close together are not.
    const scores = [0.4, 0.9, 0.4, 0.4, 0.4, 0.4, 0.4, 0.7, 0.4, 0.65, 0.4, 0.4];
    const t = alertBudgetThreshold(scores);
    expect(t).toBe(0.65);
    expect(t).toBe(thresholdForAlertBudget(scores, { window: 5, minAnomalous: 2 }, 0));
  });

  it("judges each entity's rows apart and takes the highest of their thresholds", () => {
    // Interleaved, the two entities' high scores would sit next to each other and set off the rule.
    const scores = [0.8, 0.3, 0.3, 0.8, 0.3, 0.3, 0.3, 0.3];
    const entity = [0, 1, 0, 1, 0, 1, 0, 1];
    expect(alertBudgetThreshold(scores)).toBe(0.8);
    expect(alertBudgetThreshold(scores, entity)).toBe(0.3);
  });
});

describe('column flags', () => {
  it('number entities in order of first appearance', () => {
    expect(entityIds(['b', 'a', 'b', 'c'])).toEqual({
      ids: Int32Array.from([0, 1, 0, 2]),
      names: ['b', 'a', 'c'],
    });
  });

  it("hint at this command's flags for a text or time column", () => {
    const read = (text: string, entity: boolean, values = {}): unknown =>
      parseMetricsCsv(text, 'f.csv', columnFlags(values, false, entity));
    expect(() => read('host,a\nweb-1,1\n', true)).toThrow(
      "f.csv, line 2, column 'host': column 'host' is text: use --entity-column host or --ignore-column host",
    );
    expect(() => read('host,a\nweb-1,1\n', false)).toThrow("column 'host' is text: use --ignore-column host");
    expect(() => read('Date,a\n2024-05-01,1\n', false)).toThrow(
      "column 'Date' holds times: use --time-column Date or --ignore-column Date",
    );
    expect(() => read('Date,When,a\n2024-05-01,2024-05-01,1\n', false, { 'time-column': 'Date' })).toThrow(
      "column 'When' holds times: use --ignore-column When (the time column is 'Date')",
    );
  });
});
