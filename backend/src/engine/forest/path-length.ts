const EULER_GAMMA = 0.5772156649015329;

/**
 * c(n): the average path length of an unsuccessful search in a binary search tree of n points
 * (Liu, Ting & Zhou 2008, eq. 1), computed as scikit-learn's `_average_path_length`:
 *
 *     c(n) = 2 H(n - 1) - 2 (n - 1) / n,   H(i) ≈ ln(i) + γ,   c(1) = 0,  c(2) = 1.
 *
 * It normalises path lengths (the score's denominator is c(maxSamples)) and stands in for the
 * subtree that a depth-limited tree did not grow below a leaf holding n points.
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}
