import { programOf, type Program } from './kernel.js';
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
 * split of the tree (each b_n is needed), but the additions into φ, which cost most, drop to a
 * third of a table per leaf for about the same table memory (docs/engine.md has the figures).
 *
 * Which subtrees (`plan`): the cheapest cover of the tree's leaves by disjoint subtrees, by
 * dynamic programming bottom-up, a subtree counting |U_r| + GROUP_OVERHEAD per row when its table
 * has at most GROUP_DOUBLES numbers, its two children's costs otherwise. Leaves are always a group of
 * their own (their table is the leaf's table, L = H). Splits above the chosen subtrees carry down
 * the positions x failed as a bit mask, as ShapPaths does. A subtree's table is built from its
 * children's (`subtable`). Tables are kept per tree between batches within `keepBytes`.
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
  /** The same for the WebAssembly kernel (kernel.ts). */
  readonly program: Program;
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
  /** The recursion's children's tables (subtable). */
  private arena = EMPTY;

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
      this.values.byteLength + this.scratch.byteLength + this.arena.byteLength + this.chunkFail.byteLength
    );
  }

  /** Lets the batch's scratch go (the tables kept stay). */
  release(): void {
    this.values = EMPTY;
    this.scratch = EMPTY;
    this.arena = EMPTY;
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
    };
    let bytes = 64;
    for (const a of Object.values(table)) if (typeof a === 'object') bytes += a.byteLength;
    const program = programOf(table, nodes, this.paths.bit, CHUNK_ROWS);
    return { ...table, program, bytes: bytes + program.bytes.byteLength };
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
    const { left } = this.paths.nodes;
    const g = this.groups++;
    const i = r - start;
    const a = this.above[i]!;
    const width = this.featuresBelow[i]!;
    const s = this.innerBelow[i]!;
    const base = this.filled;
    const size = 2 ** (a + s) * width;
    if (base + size > TABLE_DOUBLES) return false;
    if (this.values.length < base + size) {
      const grown = new Float64Array(Math.min(TABLE_DOUBLES, Math.max(base + size, 2 * this.values.length)));
      grown.set(this.values.subarray(0, base));
      this.values = grown;
    }
    this.filled = base + size;
    this.gRoot[g] = r;
    this.gBase[g] = base;
    this.gWidth[g] = width;
    this.gAll[g] = (1 << a) - 1;
    const fAt = this.gFeatureAt[g]!;
    if (this.gFeature.length < fAt + width) {
      const grown = new Int32Array(2 * (fAt + width));
      grown.set(this.gFeature);
      this.gFeature = grown;
    }
    this.featuresOf(r, start, this.gFeature, fAt);
    this.gFeatureAt[g + 1] = fAt + width;
    // Inner splits in preorder: split i of the group is bit a + i of the line index.
    let inner = this.gInnerAt[g]!;
    const stack = this.wayInner;
    let depth = 0;
    stack[depth++] = r;
    while (depth > 0) {
      const m = stack[--depth]!;
      const lm = left[m]!;
      if (lm === m) continue;
      this.gInner[inner] = m;
      this.gStep[inner] = width * 2 ** (a + inner - this.gInnerAt[g]!);
      inner++;
      stack[depth++] = lm + 1;
      stack[depth++] = lm;
    }
    this.gInnerAt[g + 1] = inner;
    // Every table of the subtree's nodes at once at most, for the recursion's scratch.
    let need = 0;
    depth = 0;
    stack[depth++] = r;
    while (depth > 0) {
      const m = stack[--depth]!;
      if (m !== r)
        need += 2 ** (this.above[m - start]! + this.innerBelow[m - start]!) * this.featuresBelow[m - start]!;
      const lm = left[m]!;
      if (lm === m) continue;
      stack[depth++] = lm + 1;
      stack[depth++] = lm;
    }
    if (this.arena.length < need) this.arena = new Float64Array(need);
    this.subtable(r, start, this.values, base, 0);
    return true;
  }

  /**
   * Node v's features in line order at out[at …]: the path's above v (any leaf below has them
   * first), then the new ones in the order the subtree's inner splits meet them (preorder).
   */
  private featuresOf(v: number, start: number, out: Int32Array, at: number): void {
    const { nodes, pathAt, pathFeature } = this.paths;
    const { left, feature } = nodes;
    const a = this.above[v - start]!;
    let leaf = v;
    while (left[leaf] !== leaf) leaf = left[leaf]!;
    for (let p = 0; p < a; p++) out[at + p] = pathFeature[pathAt[leaf]! + p]!;
    let used = a;
    const stack = this.wayRight;
    let depth = 0;
    stack[depth++] = v;
    while (depth > 0) {
      const m = stack[--depth]!;
      const lm = left[m]!;
      if (lm === m) continue;
      const f = feature[m]!;
      let u = 0;
      while (u < used && out[at + u] !== f) u++;
      if (u === used) out[at + used++] = f;
      stack[depth++] = lm + 1;
      stack[depth++] = lm;
    }
  }

  /**
   * Writes node v's table at out[at …]: 2^(a+s) lines of |U| numbers, line L = H_v + the outcomes of
   * v's inner splits in preorder (v's own at bit a, then its left subtree's, then its right's). A
   * leaf's is its own table; an inner node's line is its children's lines added, each child's
   * line index read off L: the child's H is H_v with v's feature's position satisfied only if x
   * went the child's way (and, if the feature was on the path already, satisfied there), followed
   * by the child's own inner splits' outcomes. lines · (|U_left| + |U_right|) additions, against
   * lines · Σ_leaves d for adding every leaf's table into every line.
   */
  private subtable(v: number, start: number, out: Float64Array, at: number, arenaAt: number): void {
    const { left, feature } = this.paths.nodes;
    const i = v - start;
    const a = this.above[i]!;
    const lv = left[v]!;
    if (lv === v) {
      this.paths.leafTable(v, a, out, at, this.scratch);
      return;
    }
    const width = this.featuresBelow[i]!;
    const lines = 1 << (a + this.innerBelow[i]!);
    const li = lv - start;
    const ri = li + 1;
    const aChild = this.above[li]!;
    const sLeft = this.innerBelow[li]!;
    const wLeft = this.featuresBelow[li]!;
    const wRight = this.featuresBelow[ri]!;
    const arena = this.arena;
    const leftAt = arenaAt;
    const rightAt = leftAt + 2 ** (aChild + sLeft) * wLeft;
    const next = rightAt + 2 ** (aChild + this.innerBelow[ri]!) * wRight;
    this.subtable(lv, start, arena, leftAt, next);
    this.subtable(lv + 1, start, arena, rightAt, next);
    // Where each child's numbers go in v's line.
    const mine = this.mineScratch;
    const theirs = this.theirsScratch;
    this.featuresOf(v, start, mine, 0);
    const slot = this.slotScratch;
    this.featuresOf(lv, start, theirs, 0);
    for (let q = 0; q < wLeft; q++) {
      let u = 0;
      while (mine[u] !== theirs[q]) u++;
      slot[q] = u;
    }
    this.featuresOf(lv + 1, start, theirs, 0);
    for (let q = 0; q < wRight; q++) {
      let u = 0;
      while (mine[u] !== theirs[q]) u++;
      slot[32 + q] = u;
    }
    // v's feature: a new position (bit a of the children's H) or one already on the path.
    const fresh = aChild > a;
    let pos = 0;
    if (!fresh) while (mine[pos] !== feature[v]) pos++;
    const all = (1 << a) - 1;
    const leftMask = (1 << sLeft) - 1;
    // The children's first aChild features are v's (the path, then v's own when new), in v's order.
    for (let L = 0, o = at; L < lines; L++, o += width) {
      const h = L & all;
      const b = (L >> a) & 1;
      const hLeft = fresh ? h | ((1 - b) << a) : b ? h & ~(1 << pos) : h;
      const hRight = fresh ? h | (b << a) : b ? h : h & ~(1 << pos);
      const rest = L >> (a + 1);
      const lo = leftAt + (hLeft | ((rest & leftMask) << aChild)) * wLeft;
      const ro = rightAt + (hRight | ((rest >> sLeft) << aChild)) * wRight;
      for (let q = 0; q < aChild; q++) out[o + q] = arena[lo + q]! + arena[ro + q]!;
      for (let q = aChild; q < width; q++) out[o + q] = 0;
      for (let q = aChild; q < wLeft; q++) out[o + slot[q]!] += arena[lo + q]!;
      for (let q = aChild; q < wRight; q++) out[o + slot[32 + q]!] += arena[ro + q]!;
    }
  }

  private readonly mineScratch = new Int32Array(64);
  private readonly slotScratch = new Int32Array(64);
  private readonly theirsScratch = new Int32Array(64);

  /**
   * Adds a tree's φ from its table for `count` rows (at most CHUNK_ROWS) laid out feature-major:
   * feature f of row r at xT[at + f·CHUNK_ROWS + r], its φ at phiT[at + f·CHUNK_ROWS + r]. Nodes
   * and groups outside, rows inside: each split and each group's features are read once per chunk,
   * and the rows' loads are independent of one another. explainRows runs the same loops as
   * WebAssembly (kernel.ts, the same operations in the same order); these are for a runtime
   * without it, and the reference the kernel is tested against.
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
      let i = innerAt[g]!;
      const iEnd = innerAt[g + 1]!;
      // The line's offset: the positions failed above the group and its first two inner splits in
      // one pass (a leaf alone has none), then two inner splits a pass.
      if (i + 1 < iEnd) {
        const n0 = gInner[i]!;
        const n1 = gInner[i + 1]!;
        const t0 = threshold[n0]!;
        const t1 = threshold[n1]!;
        const s0 = gStep[i]!;
        const s1 = gStep[i + 1]!;
        const x0 = at + feature[n0]! * C;
        const x1 = at + feature[n1]! * C;
        for (let r = 0; r < count; r++)
          off[r] =
            base + (all & ~fail[fo + r]!) * width + (s0 & -+(xT[x0 + r]! > t0)) + (s1 & -+(xT[x1 + r]! > t1));
        i += 2;
      } else if (i < iEnd) {
        const n0 = gInner[i]!;
        const t0 = threshold[n0]!;
        const s0 = gStep[i]!;
        const x0 = at + feature[n0]! * C;
        for (let r = 0; r < count; r++)
          off[r] = base + (all & ~fail[fo + r]!) * width + (s0 & -+(xT[x0 + r]! > t0));
        i++;
      } else for (let r = 0; r < count; r++) off[r] = base + (all & ~fail[fo + r]!) * width;
      for (; i + 1 < iEnd; i += 2) {
        const n0 = gInner[i]!;
        const n1 = gInner[i + 1]!;
        const t0 = threshold[n0]!;
        const t1 = threshold[n1]!;
        const s0 = gStep[i]!;
        const s1 = gStep[i + 1]!;
        const x0 = at + feature[n0]! * C;
        const x1 = at + feature[n1]! * C;
        for (let r = 0; r < count; r++) off[r] += (s0 & -+(xT[x0 + r]! > t0)) + (s1 & -+(xT[x1 + r]! > t1));
      }
      if (i < iEnd) {
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
export const TABLE_DOUBLES = 1 << 18;
