import type { MetricForests, StreamOptions } from '../engine/index.js';

/**
 * `--metric-forests share,trees,samples[,split[,distinct[,subset]]]` (e.g. `0.3,12,128,metric,0.5`): the stream's per-metric
 * forests for a bench run (StreamOptions.metricForests; off unless given). Throws on a malformed value.
 */
export function metricForestsFlag(value: string | undefined): { metricForests?: MetricForests } {
  if (value === undefined) return {};
  const [share, trees, samples, split = 'metric', distinct = '0', subset = '1'] = value.split(',');
  const parsed = {
    share: Number(share),
    trees: Number(trees),
    samples: Number(samples),
    split,
    distinct: Number(distinct),
    subset: Number(subset),
  };
  if (
    !(parsed.share > 0 && parsed.share < 1) ||
    !Number.isInteger(parsed.trees) ||
    !Number.isInteger(parsed.samples) ||
    (split !== 'metric' && split !== 'bonferroni') ||
    !(parsed.distinct >= 0 && parsed.distinct <= 1) ||
    !(Number.isInteger(parsed.subset) && parsed.subset >= 1)
  )
    throw new Error(
      `--metric-forests ${value}: expected share,trees,samples[,metric|bonferroni[,distinct share]]`,
    );
  return { metricForests: parsed as MetricForests };
}

/**
 * `--budget-split even|union`: how the stream splits its alert budget between its forest groups for
 * a bench run (StreamOptions.budgetSplit; the detector's default unless given). Throws on another value.
 */
export function budgetSplitFlag(value: string | undefined): { budgetSplit?: 'even' | 'union' } {
  if (value === undefined) return {};
  if (value !== 'even' && value !== 'union')
    throw new Error(`--budget-split ${value}: expected even or union`);
  return { budgetSplit: value };
}

/**
 * `--whole-forest off|trees,samples`: the stream's forest over every feature beside the level and
 * change forests for a bench run (StreamOptions.wholeForest; the detector's default unless given),
 * `off` to measure the detector without it. Throws on a malformed value.
 */
export function wholeForestFlag(value: string | undefined): Pick<StreamOptions, 'wholeForest'> {
  if (value === undefined) return {};
  if (value === 'off') return { wholeForest: false };
  const [trees, samples] = value.split(',').map(Number);
  if (!(Number.isInteger(trees) && trees! >= 1 && Number.isInteger(samples) && samples! >= 2))
    throw new Error(`--whole-forest ${value}: expected off, or trees,samples`);
  return { wholeForest: { trees: trees!, samples: samples! } };
}

/** The detector options every quality and speed bench takes, for `parseArgs`. */
export const DETECTOR_FLAGS = {
  'metric-forests': { type: 'string' },
  'budget-split': { type: 'string' },
  'whole-forest': { type: 'string' },
} as const;

/** The detector's options from DETECTOR_FLAGS' values (the detector's defaults for what is not given). */
export function detectorFlags(values: {
  'metric-forests'?: string;
  'budget-split'?: string;
  'whole-forest'?: string;
}): Partial<StreamOptions> {
  return {
    ...metricForestsFlag(values['metric-forests']),
    ...budgetSplitFlag(values['budget-split']),
    ...wholeForestFlag(values['whole-forest']),
  };
}
