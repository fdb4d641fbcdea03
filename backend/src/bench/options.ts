import type { MetricForests } from '../engine/index.js';

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
