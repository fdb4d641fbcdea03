import type { ShapPaths } from './treeshap.js';

/**
 * One tree's TreeSHAP as a few table lookups per row, for batches (Fast TreeSHAP v2, Yang 2021,
 * with the tables over subtrees rather than single leaves).
 *
 * A leaf's φ depends on x only through H, the positions of its path's features whose splits x all
 * satisfies (see ShapPaths), so a leaf's table has a line of d numbers for each of the 2^d sets H.
 * Every leaf under a node r shares r's path features P_r (a = |P_r|, the first a positions of each
 * leaf's path), and what x satisfies at each leaf is fixed by H_r (what it satisfies of P_r above r)
 * and the outcome b_n ∈ {0, 1} (went right) of each of the s inner splits n of r's subtree: at leaf
 * l, a position is satisfied when it is in H_r or new below r, and no split on its feature on the
 * way from r to l went the other way. So the whole subtree's φ is one table over
 *
 *     L = H_r + Σ_i b_{n_i} 2^(a+i),     2^(a+s) lines of |U_r| numbers,
 *
 * U_r the features on the subtree's paths, each line the sum of its leaves' lines. A row then adds
 * |U_r| numbers for the whole subtree instead of d for each leaf: it still compares x with every
 * split of the tree (each b_n is needed), but the additions into φ, which cost most, drop to about
 * half of a table per leaf (and pairs of sibling leaves) for the same table memory.
 *
 * Which subtrees (`tabulate`): the cheapest cover of the tree's leaves by disjoint subtrees, by
 * dynamic programming bottom-up, a subtree counting |U_r| + GROUP_OVERHEAD per row when its table
 * has at most GROUP_DOUBLES numbers, its two children's costs otherwise. Leaves are always a group of
 * their own (their table is the leaf's table, L = H). Splits above the chosen subtrees carry down
 * the positions x failed as a bit mask, as ShapPaths does.
 */
/** One tree's groups and tables, built by TreeTables and kept between batches while they fit. */
export interface TreeTable {
  /** The tree's first node: local node indices are relative to it. */
  readonly start: number;
  /** Every group's lines, one after the other: line L of group g at base[g] + L · width[g]. */
  readonly values: Float64Array;
  readonly groups: number;
  /** Per group: its root (absolute node), base, width (|U|), 2^a − 1 (H_r's positions). */
  readonly root: Int32Array;
  readonly base: Int32Array;
  readonly width: Int32Array;
  readonly all: Int32Array;
  /** Per group, where its features (U, in line order) and its inner splits start in `feature` / `inner`. */
  readonly featureAt: Int32Array;
  readonly innerAt: Int32Array;
  readonly feature: Int32Array;
  /** The groups' inner splits (absolute nodes) and what a right turn at each adds to the line's offset. */
  readonly inner: Int32Array;
  readonly step: Int32Array;
  /** Splits above the groups, parents first (absolute nodes). */
  readonly top: Int32Array;
  readonly bytes: number;
}

export class TreeTables {
  /** Per tree: its table while held, null when it cannot be tabulated, undefined when not built or let go. */
  private readonly held: Array<TreeTable | null | undefined>;
  private heldBytes = 0;
  /** The tree being built: its lines (copied out, at their size, when done). */
  private values = EMPTY;
  private filled = 0;
  /** Scratch for leaf tables: fillTable's 2 · 2^d and the leaf's 2^d · d lines. */
  private scratch = EMPTY;
  private leafLines = EMPTY;

  // Per node of the tree (local index n − treeStart[t]).
  /** Distinct features above the node (a), inner nodes in its subtree (s), |U| of its subtree. */
  private readonly above: Int32Array;
  private readonly innerBelow: Int32Array;
  private readonly featuresBelow: Int32Array;
  /** DP: the per-row cost of the node's subtree, and whether it is one group. */
  private readonly cost: Float64Array;
  private readonly single: Uint8Array;
  /** Per feature: how many splits on it are on the current path (build), and a visit stamp. */
  private onPath: Int32Array;
  private stamp: Int32Array;
  private stampNow = 0;

  // The groups of the tabulated tree.
  private groups = 0;
  private readonly gRoot: Int32Array;
  private readonly gBase: Int32Array;
  private readonly gWidth: Int32Array;
  /** 2^a − 1: H_r's positions. */
  private readonly gAll: Int32Array;
  /** Where the group's features (U, line order) and inner splits start in gFeature / gInner. */
  private readonly gFeatureAt: Int32Array;
  private readonly gInnerAt: Int32Array;
  private gFeature: Int32Array;
  /** Inner splits of the groups (absolute node), and what a right turn adds to the line's offset. */
  private readonly gInner: Int32Array;
  private readonly gStep: Int32Array;
  /** Splits above the groups, parents first (absolute nodes). */
  private readonly top: Int32Array;
  private topCount = 0;

  /** accumulateChunk's scratch: the failed positions at each node for each row, each row's line offset. */
  private chunkFail = EMPTY_INT;
  private readonly chunkOffset = new Int32Array(CHUNK_ROWS);
  /** build's stack of a group's inner splits on the way to a leaf: index in the group, and direction. */
  private readonly wayInner = new Int32Array(64);
  private readonly wayRight = new Int32Array(64);

  constructor(
    private readonly paths: ShapPaths,
    /** Tables kept between batches at most (bytes); trees beyond are built for each batch and let go. */
    private readonly keepBytes: number,
  ) {
    const m = paths.maxTreeNodes;
    this.held = new Array<TreeTable | null | undefined>(paths.nodes.treeStart.length - 1);
    this.above = new Int32Array(m);
    this.innerBelow = new Int32Array(m);
    this.featuresBelow = new Int32Array(m);
    this.cost = new Float64Array(m);
    this.single = new Uint8Array(m);
    this.gRoot = new Int32Array(m);
    this.gBase = new Int32Array(m);
    this.gWidth = new Int32Array(m);
    this.gAll = new Int32Array(m);
    this.gFeatureAt = new Int32Array(m + 1);
    this.gInnerAt = new Int32Array(m + 1);
    this.gFeature = new Int32Array(m * 4);
    this.gInner = new Int32Array(m);
    this.gStep = new Int32Array(m);
    this.top = new Int32Array(m);
    this.onPath = new Int32Array(0);
    this.stamp = new Int32Array(0);
  }

  /** Bytes held between batches: the tables kept, and the planner's few numbers per node. */
  get bytes(): number {
    return this.heldBytes + this.cost.byteLength + this.gFeature.byteLength + this.above.byteLength * 14;
  }

  /** Bytes a batch adds while it runs: the builder's scratch and accumulateChunk's masks. */
  get scratchBytes(): number {
    return (
      this.values.byteLength + this.scratch.byteLength + this.leafLines.byteLength + this.chunkFail.byteLength
    );
  }

  /** Lets the batch's scratch go (the tables kept stay). */
  release(): void {
    this.values = EMPTY;
    this.scratch = EMPTY;
    this.leafLines = EMPTY;
    this.chunkFail = EMPTY_INT;
  }

  /**
   * Tree t's table: the one kept, or built now (and kept while the tables kept stay within
   * keepBytes). Null when the tree cannot be tabulated (a leaf with more than TABLE_MAX_DEPTH path
   * features, or more than TABLE_DOUBLES numbers in all): its rows go through ShapPaths.
   */
  table(t: number): TreeTable | null {
    const kept = this.held[t];
    if (kept !== undefined) return kept;
    const built = this.build(t);
    const bytes = built?.bytes ?? 0;
    if (this.heldBytes + bytes <= this.keepBytes) {
      this.held[t] = built;
      this.heldBytes += bytes;
    }
    return built;
  }

  private build(t: number): TreeTable | null {
    if (this.values === EMPTY) {
      this.values = new Float64Array(1 << 15);
      this.scratch = new Float64Array(2 << TABLE_MAX_DEPTH);
      this.leafLines = new Float64Array((1 << TABLE_MAX_DEPTH) * TABLE_MAX_DEPTH);
    }
    const { nodes } = this.paths;
    const { left, feature, treeStart } = nodes;
    const start = treeStart[t]!;
    const end = treeStart[t + 1]!;
    let features = 0;
    for (let n = start; n < end; n++) if (left[n] !== n) features = Math.max(features, feature[n]! + 1);
    if (this.onPath.length < features) {
      this.onPath = new Int32Array(features);
      this.stamp = new Int32Array(features);
    }
    if (!this.plan(start)) return null;
    this.groups = 0;
    this.topCount = 0;
    this.filled = 0;
    this.gFeatureAt[0] = 0;
    this.gInnerAt[0] = 0;
    if (!this.assign(start, start)) return null;
    const g = this.groups;
    const table = {
      start,
      values: this.values.slice(0, this.filled),
      groups: g,
      root: this.gRoot.slice(0, g),
      base: this.gBase.slice(0, g),
      width: this.gWidth.slice(0, g),
      all: this.gAll.slice(0, g),
      featureAt: this.gFeatureAt.slice(0, g + 1),
      innerAt: this.gInnerAt.slice(0, g + 1),
      feature: this.gFeature.slice(0, this.gFeatureAt[g]),
      inner: this.gInner.slice(0, this.gInnerAt[g]),
      step: this.gStep.slice(0, this.gInnerAt[g]),
      top: this.top.slice(0, this.topCount),
      bytes: 0,
    };
    let bytes = 64;
    for (const a of Object.values(table)) if (typeof a === 'object') bytes += a.byteLength;
    table.bytes = bytes;
    return table;
  }

  /**
   * Bottom-up: each node's a, s and |U|, and the cheapest cover of its subtree. False when a leaf
   * has too many path features for a table.
   */
  private plan(start: number): boolean {
    const { left, feature } = this.paths.nodes;
    const { above, innerBelow, featuresBelow, cost, single, onPath } = this;
    let ok = true;
    const visit = (n: number, a: number): void => {
      const i = n - start;
      above[i] = a;
      const ln = left[n]!;
      if (ln === n) {
        innerBelow[i] = 0;
        featuresBelow[i] = a;
        cost[i] = a + GROUP_OVERHEAD;
        single[i] = 1;
        if (a > TABLE_MAX_DEPTH) ok = false;
        return;
      }
      const f = feature[n]!;
      const inner = onPath[f]! > 0 ? a : a + 1;
      onPath[f]!++;
      visit(ln, inner);
      visit(ln + 1, inner);
      onPath[f]!--;
      innerBelow[i] = innerBelow[ln - start]! + innerBelow[ln + 1 - start]! + 1;
      featuresBelow[i] = a + this.newFeatures(n);
      const split = cost[ln - start]! + cost[ln + 1 - start]!;
      const bits = a + innerBelow[i]!;
      const self =
        bits <= TABLE_MAX_DEPTH && 2 ** bits * featuresBelow[i]! <= GROUP_DOUBLES
          ? featuresBelow[i]! + GROUP_OVERHEAD
          : Infinity;
      single[i] = self <= split ? 1 : 0;
      cost[i] = Math.min(self, split);
    };
    visit(start, 0);
    return ok;
  }

  /** Features split on in n's subtree that are not on the path above n (onPath holds the path). */
  private newFeatures(n: number): number {
    const { left, feature } = this.paths.nodes;
    const { onPath, stamp } = this;
    const mark = ++this.stampNow;
    let count = 0;
    // The subtree's inner nodes, depth first, without recursion.
    const stack = this.top; // free while planning
    let depth = 0;
    stack[depth++] = n;
    while (depth > 0) {
      const m = stack[--depth]!;
      const lm = left[m]!;
      if (lm === m) continue;
      const f = feature[m]!;
      if (onPath[f] === 0 && stamp[f] !== mark) {
        stamp[f] = mark;
        count++;
      }
      stack[depth++] = lm;
      stack[depth++] = lm + 1;
    }
    return count;
  }

  /**
   * Top-down: splits above the chosen groups go to `top`, each group gets its features, inner
   * splits and table. False when the tables outgrow TABLE_DOUBLES.
   */
  private assign(n: number, start: number): boolean {
    const i = n - start;
    if (!this.single[i]) {
      this.top[this.topCount++] = n;
      const ln = this.paths.nodes.left[n]!;
      return this.assign(ln, start) && this.assign(ln + 1, start);
    }
    return this.group(n, start);
  }

  /** Makes n's subtree one group: its features in line order, its inner splits, its table. */
  private group(r: number, start: number): boolean {
    const { nodes, pathAt, pathFeature } = this.paths;
    const { left, feature } = nodes;
    const g = this.groups++;
    const a = this.above[r - start]!;
    const width = this.featuresBelow[r - start]!;
    const s = this.innerBelow[r - start]!;
    const base = this.filled;
    const lines = 2 ** (a + s);
    if (base + lines * width > TABLE_DOUBLES) return false;
    if (this.values.length < base + lines * width) {
      const grown = new Float64Array(
        Math.min(TABLE_DOUBLES, Math.max(base + lines * width, 2 * this.values.length)),
      );
      grown.set(this.values.subarray(0, base));
      this.values = grown;
    }
    const values = this.values;
    values.fill(0, base, base + lines * width);
    this.filled = base + lines * width;
    this.gRoot[g] = r;
    this.gBase[g] = base;
    this.gWidth[g] = width;
    this.gAll[g] = (1 << a) - 1;
    const fAt = this.gFeatureAt[g]!;
    const iAt = this.gInnerAt[g]!;
    if (this.gFeature.length < fAt + width) {
      const grown = new Int32Array(2 * (fAt + width));
      grown.set(this.gFeature);
      this.gFeature = grown;
    }
    const gFeature = this.gFeature;
    // The first a features are the path's above r (any leaf below has them first), then the new ones
    // in the order the subtree's inner splits (depth first, left before right) first meet them.
    let leaf = r;
    while (left[leaf] !== leaf) leaf = left[leaf]!;
    for (let p = 0; p < a; p++) gFeature[fAt + p] = pathFeature[pathAt[leaf]! + p]!;
    let used = a;
    let inner = 0;
    const innerAt = iAt;
    const collect = (m: number): void => {
      const lm = left[m]!;
      if (lm === m) return;
      const f = feature[m]!;
      let u = 0;
      while (u < used && gFeature[fAt + u] !== f) u++;
      if (u === used) gFeature[fAt + used++] = f;
      this.gInner[innerAt + inner] = m;
      this.gStep[innerAt + inner] = width * 2 ** (a + inner);
      inner++;
      collect(lm);
      collect(lm + 1);
    };
    collect(r);
    this.gFeatureAt[g + 1] = fAt + width;
    this.gInnerAt[g + 1] = iAt + inner;
    if (s === 0) {
      // A leaf on its own: its table is the leaf's, line H.
      this.paths.leafTable(r, a, values, base, this.scratch);
      return true;
    }
    // Each leaf's lines added into every line of the group: at line L, the leaf satisfies its
    // positions in H_r (L's low a bits) and its new ones, less any whose feature a split on the way
    // sent the other way (bit a + i of L against the direction to the leaf).
    const wayInner = this.wayInner;
    const wayRight = this.wayRight;
    const all = (1 << a) - 1;
    const addLeaf = (l: number, depth: number): void => {
      const d = 32 - Math.clz32(this.paths.bit[l]!);
      const at = pathAt[l]!;
      this.paths.leafTable(l, d, this.leafLines, 0, this.scratch);
      // Where each of the leaf's positions sits in the group's line.
      const slot = this.slotScratch;
      for (let p = 0; p < d; p++) {
        const f = pathFeature[at + p]!;
        let u = 0;
        while (gFeature[fAt + u] !== f) u++;
        slot[p] = u;
      }
      // Each split on the way: the bit of L it reads, the direction to the leaf, the position it can fail.
      const wayBit = this.wayBit;
      const wayDir = this.wayDir;
      const wayPos = this.wayPos;
      for (let k = 0; k < depth; k++) {
        const m = this.gInner[innerAt + wayInner[k]!]!;
        let p = 0;
        while (pathFeature[at + p] !== feature[m]) p++;
        wayBit[k] = a + wayInner[k]!;
        wayDir[k] = wayRight[k]!;
        wayPos[k] = ~(1 << p);
      }
      const fresh = ((1 << d) - 1) & ~all;
      const lines = this.leafLines;
      for (let L = 0, o = base; L < 1 << (a + s); L++, o += width) {
        let h = (L & all) | fresh;
        for (let k = 0; k < depth; k++) if (((L >> wayBit[k]!) & 1) !== wayDir[k]) h &= wayPos[k]!;
        const row = h * d;
        for (let p = 0; p < d; p++) values[o + slot[p]!] += lines[row + p]!;
      }
    };
    // Depth first again, with the way from r: inner splits are numbered in the same order as collect.
    let numbered = 0;
    const walk = (m: number, depth: number): void => {
      const lm = left[m]!;
      if (lm === m) {
        addLeaf(m, depth);
        return;
      }
      const index = numbered++;
      wayInner[depth] = index;
      wayRight[depth] = 0;
      walk(lm, depth + 1);
      wayInner[depth] = index;
      wayRight[depth] = 1;
      walk(lm + 1, depth + 1);
    };
    walk(r, 0);
    return true;
  }

  private readonly slotScratch = new Int32Array(32);
  private readonly wayBit = new Int32Array(64);
  private readonly wayDir = new Int32Array(64);
  private readonly wayPos = new Int32Array(64);

  /**
   * Adds a tree's φ from its table for `count` rows (at most CHUNK_ROWS) laid out feature-major:
   * feature f of row r at xT[at + f·CHUNK_ROWS + r], its φ at phiT[at + f·CHUNK_ROWS + r]. Nodes
   * and groups outside, rows inside: each split and each group's features are read once per chunk,
   * and the rows' loads are independent of one another.
   */
  accumulateChunk(table: TreeTable, xT: Float64Array, phiT: Float64Array, at: number, count: number): void {
    const { feature, threshold, left } = this.paths.nodes;
    const { bit } = this.paths;
    if (this.chunkFail === EMPTY_INT) this.chunkFail = new Int32Array(this.paths.maxTreeNodes * CHUNK_ROWS);
    const { chunkFail: fail, chunkOffset: off } = this;
    const { start, top, values, base: gBase, width: gWidth, all: gAll, root: gRoot } = table;
    const { featureAt, innerAt, feature: gFeature, inner: gInner, step: gStep } = table;
    const C = CHUNK_ROWS;
    fail.fill(0, 0, count);
    for (let i = 0; i < top.length; i++) {
      const n = top[i]!;
      const k = bit[n]!;
      const thr = threshold[n]!;
      const xo = at + feature[n]! * C;
      const fo = (n - start) * C;
      const lo = (left[n]! - start) * C;
      const ro = lo + C;
      for (let r = 0; r < count; r++) {
        const failed = fail[fo + r]!;
        // b = 1 when x goes right: the left child is the one it fails.
        const b = +(xT[xo + r]! > thr);
        fail[lo + r] = failed | (k & -b);
        fail[ro + r] = failed | (k & (b - 1));
      }
    }
    for (let g = 0; g < table.groups; g++) {
      const width = gWidth[g]!;
      const all = gAll[g]!;
      const base = gBase[g]!;
      const fo = (gRoot[g]! - start) * C;
      for (let r = 0; r < count; r++) off[r] = base + (all & ~fail[fo + r]!) * width;
      for (let i = innerAt[g]!; i < innerAt[g + 1]!; i++) {
        const n = gInner[i]!;
        const thr = threshold[n]!;
        const step = gStep[i]!;
        const xo = at + feature[n]! * C;
        for (let r = 0; r < count; r++) off[r] += step & -+(xT[xo + r]! > thr);
      }
      // Four of the line's numbers at a time: one offset read for four additions, into four
      // different features' φ (a group's features are distinct).
      const fAt = featureAt[g]!;
      let p = 0;
      for (; p + 3 < width; p += 4) {
        const p0 = at + gFeature[fAt + p]! * C;
        const p1 = at + gFeature[fAt + p + 1]! * C;
        const p2 = at + gFeature[fAt + p + 2]! * C;
        const p3 = at + gFeature[fAt + p + 3]! * C;
        for (let r = 0; r < count; r++) {
          const o = off[r]! + p;
          phiT[p0 + r] += values[o]!;
          phiT[p1 + r] += values[o + 1]!;
          phiT[p2 + r] += values[o + 2]!;
          phiT[p3 + r] += values[o + 3]!;
        }
      }
      const rest = width - p;
      if (rest === 3) {
        const p0 = at + gFeature[fAt + p]! * C;
        const p1 = at + gFeature[fAt + p + 1]! * C;
        const p2 = at + gFeature[fAt + p + 2]! * C;
        for (let r = 0; r < count; r++) {
          const o = off[r]! + p;
          phiT[p0 + r] += values[o]!;
          phiT[p1 + r] += values[o + 1]!;
          phiT[p2 + r] += values[o + 2]!;
        }
      } else if (rest === 2) {
        const p0 = at + gFeature[fAt + p]! * C;
        const p1 = at + gFeature[fAt + p + 1]! * C;
        for (let r = 0; r < count; r++) {
          const o = off[r]! + p;
          phiT[p0 + r] += values[o]!;
          phiT[p1 + r] += values[o + 1]!;
        }
      } else if (rest === 1) {
        const p0 = at + gFeature[fAt + p]! * C;
        for (let r = 0; r < count; r++) phiT[p0 + r] += values[off[r]! + p]!;
      }
    }
  }
}

const EMPTY = new Float64Array(0);
const EMPTY_INT = new Int32Array(0);

/** Rows per accumulateChunk: the chunk's failed masks (4 bytes a node and row) stay in L2. */
export const CHUNK_ROWS = 128;

/** A leaf with more distinct features on its path than this leaves its tree untabulated. */
export const TABLE_MAX_DEPTH = 12;
/** A subtree's table at most (numbers): 32 KiB, so that the rows' random reads of it stay in L1. */
const GROUP_DOUBLES = 4096;
/** What a group costs a row besides its additions into φ: its line offset and loop, in additions. */
const GROUP_OVERHEAD = 3;
/** One tree's tables at most (2 MiB), far above what a tree of 256 samples needs (about 220 KiB). */
const TABLE_DOUBLES = 1 << 18;
