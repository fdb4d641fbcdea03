import { EngineError } from '../errors.js';
import type { IsolationForest } from '../forest/forest.js';
import type { Matrix } from '../matrix.js';
import type { TreeArrays } from '../forest/tree-arrays.js';
import { KernelBatch } from './kernel.js';
import { CHUNK_ROWS, TABLE_DOUBLES, TreeTables } from './tables.js';
import { expectedTreeValue, ShapPaths } from './treeshap.js';

/**
 * Why one point scored as it did, in path-length units.
 *
 * TreeSHAP decomposes the forest's mean path length E[h(x)] against its mean over the training
 * subsamples, `baseline`. Short paths are anomalous, so each contribution is the path length a
 * feature *removed*: contribution_i = −φ_i. Positive contributions push towards anomalous,
 * negative ones towards normal, and they add up exactly: Σ contributions = baseline − pathLength.
 * In a forest that isolates points beyond its ranges (outOfRange 'isolate'), TreeSHAP explains the
 * walk, and each feature also gets what cutting x off beyond its range removed from the path
 * (isolatingPathLength's terms), so the sum still holds.
 */
export interface Explanation {
  /** Per feature, in the forest's feature order. */
  contributions: Float64Array;
  /** The cover-weighted mean path length over the forest: what an average training point gets. */
  baseline: number;
  /** E[h(x)] for this point. */
  pathLength: number;
  /** The point's score, 2^(−pathLength / c(maxSamples)). */
  score: number;
}

export interface FeatureContribution {
  feature: string;
  index: number;
  contribution: number;
  /** |contribution| as a share of Σ|contributions|, for bars that add up to 100 %. */
  share: number;
}

/**
 * What explaining needs that depends on the forest alone: the baseline (mean over trees of E[h]),
 * each leaf's path (`ShapPaths`, several times the size of the model) and, once a batch has been
 * explained, the trees' tables (`TreeTables`, about 220 KiB a tree of 256 samples, at most
 * FOREST_TABLE_BYTES a forest; docs/engine.md has the figures). Forests are immutable, so none of
 * it goes stale. All forests' paths and tables together are held within EXPLAIN_CACHE_BYTES: the
 * least recently explained forest gives them up first and rebuilds them when explained again. A
 * forest no longer referenced drops out of the WeakMap; its bytes stay counted until evicted.
 */
export const EXPLAIN_CACHE_BYTES = 64 * 1024 * 1024;
/** One forest's tables kept between batches at most (and at most half the cache). */
export const FOREST_TABLE_BYTES = 32 * 1024 * 1024;
let cacheBytes = EXPLAIN_CACHE_BYTES;

/** Changes the budget (tests, and hosts that hold unusually many forests); returns the previous one. */
export function setExplainCacheBytes(bytes: number): number {
  const previous = cacheBytes;
  cacheBytes = bytes;
  return previous;
}

interface Prepared {
  baseline: number;
  paths: ShapPaths | undefined;
  tables: TreeTables | undefined;
  /** What this entry counts in heldBytes. */
  bytes: number;
}

const preparedForests = new WeakMap<TreeArrays, Prepared>();
/** Entries holding paths, least recently used first (a Set keeps insertion order). */
const holding = new Set<Prepared>();
let heldBytes = 0;

function prepared(nodes: TreeArrays, trees: number): Prepared & { paths: ShapPaths } {
  let hit = preparedForests.get(nodes);
  if (!hit) {
    let baseline = 0;
    for (let t = 0; t < trees; t++) baseline += expectedTreeValue(nodes, nodes.treeStart[t]!);
    hit = { baseline: baseline / trees, paths: undefined, tables: undefined, bytes: 0 };
    preparedForests.set(nodes, hit);
  }
  if (hit.paths) holding.delete(hit);
  else hit.paths = ShapPaths.build(nodes);
  holding.add(hit);
  account(hit);
  return hit as Prepared & { paths: ShapPaths };
}

/** Counts what `hit` holds now, and lets the least recently explained forests go to stay within budget. */
function account(hit: Prepared): void {
  const bytes = (hit.paths?.bytes ?? 0) + (hit.tables?.bytes ?? 0);
  heldBytes += bytes - hit.bytes;
  hit.bytes = bytes;
  for (const old of holding) {
    if (heldBytes <= cacheBytes || old === hit) break;
    heldBytes -= old.bytes;
    old.bytes = 0;
    old.paths = undefined;
    old.tables = undefined;
    holding.delete(old);
  }
}

/** Bytes of TreeSHAP paths held for explaining, over all forests (for the benchmark and tests). */
export function explainCacheBytes(): number {
  return heldBytes;
}

/** Explains one point with exact path-dependent TreeSHAP over every tree of the forest. */
export function explain(forest: IsolationForest, row: ArrayLike<number>): Explanation {
  return explainRows(forest, { rows: 1, cols: row.length, data: Float64Array.from(row) }, [0])[0]!;
}

/**
 * Explains rows `rows` of x (every row when absent), in that order: the same numbers as `explain`
 * on each row, computed with the trees outside and the rows inside, so that each tree's nodes and
 * paths are read from cache by a block of rows instead of from memory by every row.
 */
export function explainRows(
  forest: IsolationForest,
  x: Matrix,
  rows: ArrayLike<number> = Int32Array.from({ length: x.rows }, (_, r) => r),
): Explanation[] {
  const { nodes, params } = forest;
  const { cols, data } = x;
  if (cols !== params.nFeatures) forest.meanPathLength(new Float64Array(cols)); // the forest's width error
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (!Number.isInteger(r) || r < 0 || r >= x.rows)
      throw new EngineError('BAD_OPTION', `row ${r} is not a row of a ${x.rows}-row matrix`);
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c]!;
      if (v - v !== 0)
        throw new EngineError(
          'NON_FINITE',
          `${x.rows > 1 ? `row ${r}, ` : ''}column ${c} is ${v}: every value must be finite`,
          {
            column: c,
          },
        );
    }
  }
  const entry = prepared(nodes, params.trees);
  const { paths, baseline } = entry;
  const out: Explanation[] = [];
  const blockRows = Math.min(EXPLAIN_BLOCK, rows.length);
  const tabulate = rows.length >= TABULATE_ROWS;
  const isolate = params.outOfRange === 'isolate';
  // Tabulated batches hold the block's rows (and φ) feature-major, CHUNK_ROWS rows at a time,
  // for accumulateChunk; otherwise row-major, side by side. Either way each tree walks all the
  // block's rows, and rows picked from a large matrix would otherwise each be a cache miss in
  // every tree.
  const chunked = tabulate ? CHUNK_ROWS : 1;
  const room = Math.ceil(blockRows / chunked) * chunked * cols;
  // Tabulated batches run the trees' tables through the WebAssembly kernel where there is one
  // (kernel.ts; the same numbers as accumulateChunk), with the block and φ in its memory.
  const kernel = tabulate
    ? KernelBatch.create(room, blockRows, paths.maxTreeNodes, CHUNK_ROWS, TABLE_DOUBLES)
    : null;
  const phi = kernel ? kernel.phi : new Float64Array(room);
  const block = kernel ? kernel.x : new Float64Array(room);
  /** Where value c of block row i sits. */
  const slot = (i: number, c: number): number =>
    tabulate ? (i - (i % CHUNK_ROWS)) * cols + c * CHUNK_ROWS + (i % CHUNK_ROWS) : i * cols + c;
  const xRow = new Float64Array(cols);
  let deepest = 0;
  for (let t = 0; t < params.trees; t++) deepest = Math.max(deepest, nodes.depth[t]!);
  const terms = new Float64Array(3 * deepest);
  const phiRow = new Float64Array(cols);
  const tables = tabulate
    ? (entry.tables ??= new TreeTables(paths, Math.min(FOREST_TABLE_BYTES, cacheBytes / 2)))
    : undefined;
  // Tabulated batches: each row's Σ_t h_t(x) (the path length's sum, as the forest adds it) and,
  // for 'isolate', its isolation terms (feature-major, like φ), both from one walk of each tree
  // while the tree is in cache. 'clamp' takes the sums from the batch scoring kernel instead,
  // on the block's rows row-major.
  const lengths = kernel ? kernel.lengths : tabulate ? new Float64Array(blockRows) : undefined;
  const isolation = tabulate && isolate ? (kernel ? kernel.isolation : new Float64Array(room)) : undefined;
  const rowMajor = tabulate && !isolate ? new Float64Array(blockRows * cols) : undefined;
  for (let from = 0; from < rows.length; from += EXPLAIN_BLOCK) {
    const to = Math.min(rows.length, from + EXPLAIN_BLOCK);
    const count = to - from;
    phi.fill(0);
    isolation?.fill(0);
    lengths?.fill(0);
    for (let i = 0; i < count; i++) {
      const r = rows[from + i]! * cols;
      for (let c = 0; c < cols; c++) block[slot(i, c)] = data[r + c]!;
    }
    if (rowMajor) {
      for (let i = 0; i < count; i++)
        rowMajor.set(data.subarray(rows[from + i]! * cols, (rows[from + i]! + 1) * cols), i * cols);
      forest.pathLengthSums({ rows: count, cols, data: rowMajor.subarray(0, count * cols) }, lengths);
    }
    for (let t = 0; t < params.trees; t++) {
      if (!tabulate) {
        for (let i = 0; i < count; i++) paths.accumulateTree(t, block, i * cols, phi, i * cols);
        continue;
      }
      const table = tables!.table(t);
      const loaded = table !== null && kernel !== null && kernel.load(table.program, table.values);
      if (isolation && kernel) kernel.loadNodes(nodes, t);
      for (let c0 = 0; c0 < count; c0 += CHUNK_ROWS) {
        const n = Math.min(CHUNK_ROWS, count - c0);
        if (isolation && kernel) kernel.isolate(c0 * cols, n, c0);
        else if (isolation) isolateChunk(nodes, t, block, isolation, c0 * cols, n, lengths!, c0, terms);
        if (loaded) {
          kernel!.run(c0 * cols, n);
          continue;
        }
        if (table) {
          tables!.accumulateChunk(table, block, phi, c0 * cols, n);
          continue;
        }
        // A tree too large to tabulate whole: row by row, with the row and its φ copied out and back.
        for (let i = c0; i < c0 + n; i++) {
          for (let c = 0; c < cols; c++) [xRow[c], phiRow[c]] = [block[slot(i, c)]!, phi[slot(i, c)]!];
          paths.accumulateTree(t, xRow, 0, phiRow, 0);
          for (let c = 0; c < cols; c++) phi[slot(i, c)] = phiRow[c]!;
        }
      }
    }
    for (let i = from; i < to; i++) {
      const row = data.subarray(rows[i]! * cols, (rows[i]! + 1) * cols);
      const contributions = new Float64Array(cols);
      if (isolation) for (let c = 0; c < cols; c++) contributions[c] = isolation[slot(i - from, c)]!;
      else if (isolate)
        for (let t = 0; t < params.trees; t++)
          addIsolatingTerms(nodes, nodes.treeStart[t]!, row, contributions, terms);
      for (let c = 0; c < cols; c++)
        contributions[c] = (contributions[c]! - phi[slot(i - from, c)]!) / params.trees;
      const pathLength = lengths ? lengths[i - from]! / params.trees : forest.meanPathLength(row);
      out.push({ contributions, baseline, pathLength, score: Math.pow(2, -pathLength / forest.normalizer) });
    }
  }
  if (tables) {
    tables.release();
    account(entry);
  }
  return out;
}

/**
 * addIsolatingTerms for `count` rows held feature-major (value c of row r at x[at + c·CHUNK_ROWS + r],
 * its terms at out's same place) in one tree, also adding each row's path length in it to
 * lengths[lengthAt + r]: isolatingPathLength's arithmetic in its order (ended + survive · V, the
 * terms added at the leaf in path order), so the same numbers to the bit as meanPathLength's sum
 * over the trees in tree order and as addIsolatingTerms. Each walk takes exactly depth[t] steps
 * (a leaf points to itself with the range (−∞, +∞): the extra steps cut nothing off). The kernel's
 * walk (kernel.ts) does the same four rows at a time; this is the runtime without WebAssembly's.
 */
function isolateChunk(
  nodes: TreeArrays,
  t: number,
  x: Float64Array,
  out: Float64Array,
  at: number,
  count: number,
  lengths: Float64Array,
  lengthAt: number,
  terms: Float64Array,
): void {
  const { feature, threshold, left, value, lo, hi, treeStart, depth } = nodes;
  const steps = depth[t]!;
  const C = CHUNK_ROWS;
  for (let r = 0; r < count; r++) {
    const xo = at + r;
    let n = treeStart[t]!;
    let survive = 1;
    let ended = 0;
    let used = 0;
    // At step k (from 1) a walk is at depth k − 1: a cut there ends its path at length k.
    for (let k = 1; k <= steps; k++) {
      const f = feature[n]!;
      const v = x[xo + f * C]!;
      const l = lo[n]!;
      const h = hi[n]!;
      if (v > h || v < l) {
        const w = survive * (v > h ? (v - h) / (v - l) : (l - v) / (h - v));
        ended += w * k;
        survive -= w;
        terms[used++] = f;
        terms[used++] = w;
        terms[used++] = k;
      }
      n = left[n]! + +(v > threshold[n]!);
    }
    const leaf = value[n]!;
    lengths[lengthAt + r] += ended + survive * leaf;
    for (let i = 0; i < used; i += 3) {
      const o = xo + terms[i]! * C;
      out[o] = out[o]! + terms[i + 1]! * (leaf - terms[i + 2]!);
    }
  }
}

/**
 * Adds what cutting x off beyond each node's range shortened its path in the tree at `root`, at
 * the node's feature: isolatingPathLength's `reductions` (S_i p_i (V − i − 1), the same
 * arithmetic in the same order, so the same numbers to the bit), with the walk's terms kept in
 * `terms` (three slots a node of the deepest path) instead of a list allocated per walk.
 */
function addIsolatingTerms(
  nodes: TreeArrays,
  root: number,
  row: ArrayLike<number>,
  out: Float64Array,
  terms: Float64Array,
): void {
  const { feature, threshold, left, value, lo, hi } = nodes;
  let n = root;
  let next = left[n]!;
  let depth = 0;
  let survive = 1;
  let k = 0;
  while (next !== n) {
    const f = feature[n]!;
    const v = row[f]!;
    const p = v > hi[n]! ? (v - hi[n]!) / (v - lo[n]!) : v < lo[n]! ? (lo[n]! - v) / (hi[n]! - v) : 0;
    depth++;
    if (p > 0) {
      const w = survive * p;
      survive -= w;
      terms[k++] = f;
      terms[k++] = w;
      terms[k++] = depth;
    }
    n = next + +(v > threshold[n]!);
    next = left[n]!;
  }
  const leaf = value[n]!;
  for (let i = 0; i < k; i += 3) {
    const f = terms[i]!;
    out[f] = out[f]! + terms[i + 1]! * (leaf - terms[i + 2]!);
  }
}

/**
 * Rows per block of explainRows: large, because a tree's tables are rebuilt for every block when
 * the forest's do not all fit in FOREST_TABLE_BYTES; bounded, because the block's rows and φ are
 * copied aside (2 MiB for 16 features).
 */
const EXPLAIN_BLOCK = 8192;
/**
 * From this many rows on, batches use TreeTables: building a tree's tables (about 0.5 ms for 256
 * samples) costs what explaining some 130 rows without them saves, and later batches reuse them.
 */
const TABULATE_ROWS = 256;

/** The k features that pushed hardest towards anomalous (largest positive contributions first). */
export function topFeatures(
  contributions: ArrayLike<number>,
  names: readonly string[],
  k = 3,
): FeatureContribution[] {
  if (names.length !== contributions.length) {
    throw new EngineError(
      'FEATURE_MISMATCH',
      `${names.length} feature names for ${contributions.length} contributions`,
    );
  }
  let absTotal = 0;
  for (let i = 0; i < contributions.length; i++) absTotal += Math.abs(contributions[i]!);
  const order = Array.from({ length: contributions.length }, (_, i) => i).sort(
    (a, b) => contributions[b]! - contributions[a]! || a - b,
  );
  return order.slice(0, k).map((index) => ({
    feature: names[index]!,
    index,
    contribution: contributions[index]!,
    share: absTotal > 0 ? Math.abs(contributions[index]!) / absTotal : 0,
  }));
}
