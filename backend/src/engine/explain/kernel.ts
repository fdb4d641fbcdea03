/**
 * explainRows' inner loops as WebAssembly: TreeTables.accumulateChunk (a tree's table lines into
 * φ for a chunk of rows) and, for 'isolate', isolateChunk (the isolation terms and path lengths).
 * The module is assembled here, when it is first used, from the instruction listings below in the
 * text format's plain instructions (no toolchain, nothing prebuilt).
 *
 * Why: the loops are a few loads, a compare and an add per element, and V8 compiles each typed
 * array access in JavaScript with a bounds check, and, in a function this large, with the array's
 * map and length reloaded from the stack at every iteration. WebAssembly's loads need none of it,
 * and its SIMD lanes take two rows a step. The arithmetic is the same IEEE operations in the same
 * order as the JavaScript loops, so the same numbers to the bit (tested against them).
 *
 * `accumulate` works on one tree's "program" (TreeTable.program, copied to address 0 of the
 * memory) for one chunk of rows held feature-major, as accumulateChunk does:
 *
 *   top records (24 bytes): x offset of the split's feature (f · CHUNK_ROWS · 8), its bit k, the byte
 *     offsets in `fail` of the node's and of its left child's masks, the threshold (f64);
 *   group records (32 bytes): the group's table base (bytes from `values`), width · 8, 2^a − 1, the
 *     byte offset of its root's mask in `fail`, then where its inner records and its feature records
 *     start and end (absolute addresses);
 *   inner records (16 bytes): x offset of the split's feature, what a right turn adds to the line's
 *     address (step · 8), the threshold (f64);
 *   feature records (4 bytes): φ offset of the line's feature (f · CHUNK_ROWS · 8).
 *
 * `isolate` works on the tree's nodes written as records (see walkText).
 */
import type { TreeArrays } from '../forest/tree-arrays.js';
import type { TreeTable } from './tables.js';

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32 constants). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => vec(Array.from(s, (c) => [c.charCodeAt(0)]));

/**
 * The instructions the kernel uses, as the WebAssembly text format names them: opcode, and what
 * follows it (a local's name, a constant, a branch depth, a memory access's alignment and offset, a
 * lane, a block's result type).
 */
type Immediate = 'none' | 'local' | 'i32' | 'depth' | 'memory' | 'lane' | 'memory lane' | 'block type';
const OPS: Record<string, [number[], Immediate]> = {
  block: [[0x02, 0x40], 'none'],
  if: [[0x04], 'block type'],
  else: [[0x05], 'none'],
  loop: [[0x03, 0x40], 'none'],
  end: [[0x0b], 'none'],
  br: [[0x0c], 'depth'],
  br_if: [[0x0d], 'depth'],
  'local.get': [[0x20], 'local'],
  'local.set': [[0x21], 'local'],
  'local.tee': [[0x22], 'local'],
  'i32.load': [[0x28, 2], 'memory'],
  'f64.load': [[0x2b, 3], 'memory'],
  'i32.store': [[0x36, 2], 'memory'],
  'f64.store': [[0x39, 3], 'memory'],
  'i32.const': [[0x41], 'i32'],
  'i32.lt_u': [[0x49], 'none'],
  'i32.ge_u': [[0x4f], 'none'],
  'i32.le_u': [[0x4d], 'none'],
  'f64.lt': [[0x63], 'none'],
  'f64.gt': [[0x64], 'none'],
  'i32.add': [[0x6a], 'none'],
  'i32.sub': [[0x6b], 'none'],
  'i32.mul': [[0x6c], 'none'],
  'i32.and': [[0x71], 'none'],
  'i32.or': [[0x72], 'none'],
  'i32.xor': [[0x73], 'none'],
  'i32.shl': [[0x74], 'none'],
  'f64.add': [[0xa0], 'none'],
  'f64.sub': [[0xa1], 'none'],
  'f64.mul': [[0xa2], 'none'],
  'f64.div': [[0xa3], 'none'],
  'f64.max': [[0xa5], 'none'],
  'f64.convert_i32_s': [[0xb7], 'none'],
  select: [[0x1b], 'none'],
  'i32.wrap_i64': [[0xa7], 'none'],
  'i64.extend_i32_u': [[0xad], 'none'],
  // SIMD (0xfd, then the opcode in LEB128).
  'v128.load': [[0xfd, 0x00, 3], 'memory'],
  'v128.store': [[0xfd, 0x0b, 3], 'memory'],
  'i64x2.splat': [[0xfd, 0x12], 'none'],
  'f64x2.splat': [[0xfd, 0x14], 'none'],
  'i64x2.extract_lane': [[0xfd, 0x1d], 'lane'],
  'f64x2.gt': [[0xfd, 0x4a], 'none'],
  'v128.and': [[0xfd, 0x4e], 'none'],
  'v128.andnot': [[0xfd, 0x4f], 'none'],
  'v128.or': [[0xfd, 0x50], 'none'],
  'v128.load64_lane': [[0xfd, 0x57, 3], 'memory lane'],
  'v128.load64_zero': [[0xfd, 0x5d, 3], 'memory'],
  'i64x2.add': [[0xfd, 0xce, 0x01], 'none'],
  'i64x2.mul': [[0xfd, 0xd5, 0x01], 'none'],
  'f64x2.add': [[0xfd, 0xf0, 0x01], 'none'],
};

/**
 * Assembles a function body written in the text format's plain (stack) instructions, one after
 * another with their immediates (`local.get r`, `i32.load offset=8`, `br_if 0`); `;;` starts a
 * comment. Locals are named: `locals` lists them in index order (the parameters first).
 */
function assemble(text: string, locals: readonly string[]): number[] {
  const tokens = text
    .replace(/;;[^\n]*/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
  const out: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const op = OPS[tokens[i]!];
    if (!op) throw new Error(`kernel: unknown instruction ${tokens[i]}`);
    const [code, immediate] = op;
    out.push(...code);
    if (immediate === 'none') continue;
    if (immediate === 'memory' || immediate === 'memory lane') {
      const offset = /^offset=(\d+)$/.exec(tokens[i + 1] ?? '');
      if (offset) i++;
      out.push(...uleb(offset ? Number(offset[1]) : 0));
      if (immediate === 'memory lane') out.push(Number(tokens[++i]));
      continue;
    }
    if (immediate === 'block type') {
      // \`if\` alone, or \`if (result f64)\`.
      const result = tokens[i + 1] === '(result' && tokens[i + 2] === 'f64)';
      if (result) i += 2;
      out.push(result ? 0x7c : 0x40);
      continue;
    }
    if (immediate === 'lane') {
      out.push(Number(tokens[++i]));
      continue;
    }
    const arg = tokens[++i]!;
    if (immediate === 'local') {
      const index = locals.indexOf(arg);
      if (index < 0) throw new Error(`kernel: unknown local ${arg}`);
      out.push(...uleb(index));
    } else out.push(...(immediate === 'i32' ? sleb(Number(arg)) : uleb(Number(arg))));
  }
  return out;
}

/** accumulate's parameters (byte addresses, but n, the rows), then its own i32 locals. */
const PARAMS = ['x', 'phi', 'fail', 'off', 'n', 'top', 'topEnd', 'group', 'groupEnd', 'values'];
const LOCALS = ['r', 'xo', 'fo', 'lo', 'ro', 'ip', 'ie', 'fp', 'fe', 'j8', 'po', 'po2', 'a0', 'a1', 'q'];
/** Its v128 locals: two rows' masks, line addresses (i64x2) or numbers (f64x2), and splatted constants. */
const VECTORS = ['zero', 'k2', 'thr2', 'base2', 'w82', 'all2', 'failed2', 'm2', 'o2'];

/** `for (; p < e; p += size) body`, skipped when p ≥ e at the start. */
const records = (p: string, e: string, size: number, body: string): string => `
  block
    local.get ${p} local.get ${e} i32.ge_u br_if 0
    loop
      ${body}
      local.get ${p} i32.const ${size} i32.add local.tee ${p} local.get ${e} i32.lt_u br_if 0
    end
  end`;

/** `for (r = 0; r < n; r += 2) body`, for even n ≥ 2: two rows a step, one in each lane. */
const pairs = (body: string): string => `
  i32.const 0 local.set r
  loop
    ${body}
    local.get r i32.const 2 i32.add local.tee r local.get n i32.lt_u br_if 0
  end`;

/**
 * accumulateChunk, step for step, with two rows in each step (f64x2 and i64x2 lanes; masks and
 * line addresses held as i64, MASK_BYTES a row): the same comparisons and the same additions, lane
 * by lane. r8 is row r's offset in an f64 or i64 array.
 */
function kernelText(chunkRows: number): string {
  const r8 = 'local.get r i32.const 3 i32.shl';
  return `
  ${pairs(`local.get fail ${r8} i32.add local.get zero v128.store`)}
  ${records(
    'top',
    'topEnd',
    24,
    `
    local.get x local.get top i32.load i32.add local.set xo
    local.get top i32.load offset=4 i64.extend_i32_u i64x2.splat local.set k2
    local.get fail local.get top i32.load offset=8 i32.add local.set fo
    local.get fail local.get top i32.load offset=12 i32.add local.tee lo i32.const ${chunkRows * 8} i32.add local.set ro
    local.get top f64.load offset=16 f64x2.splat local.set thr2
    ${pairs(`
      local.get fo ${r8} i32.add v128.load local.set failed2
      local.get xo ${r8} i32.add v128.load local.get thr2 f64x2.gt local.set m2
      local.get lo ${r8} i32.add local.get failed2 local.get k2 local.get m2 v128.and v128.or v128.store
      local.get ro ${r8} i32.add local.get failed2 local.get k2 local.get m2 v128.andnot v128.or v128.store`)}`,
  )}
  ${records(
    'group',
    'groupEnd',
    32,
    `
    local.get values local.get group i32.load i32.add i64.extend_i32_u i64x2.splat local.set base2
    local.get group i32.load offset=4 i64.extend_i32_u i64x2.splat local.set w82
    local.get group i32.load offset=8 i64.extend_i32_u i64x2.splat local.set all2
    local.get fail local.get group i32.load offset=12 i32.add local.set fo
    local.get group i32.load offset=16 local.set ip
    local.get group i32.load offset=20 local.set ie
    local.get group i32.load offset=24 local.set fp
    local.get group i32.load offset=28 local.set fe
    ${pairs(`
      local.get off ${r8} i32.add
      local.get base2
      local.get all2 local.get fo ${r8} i32.add v128.load v128.andnot local.get w82 i64x2.mul
      i64x2.add
      v128.store`)}
    ${records(
      'ip',
      'ie',
      16,
      `
      local.get x local.get ip i32.load i32.add local.set xo
      local.get ip i32.load offset=4 i64.extend_i32_u i64x2.splat local.set k2
      local.get ip f64.load offset=8 f64x2.splat local.set thr2
      ${pairs(`
        local.get off ${r8} i32.add local.tee q
        local.get q v128.load
        local.get k2 local.get xo ${r8} i32.add v128.load local.get thr2 f64x2.gt v128.and
        i64x2.add
        v128.store`)}`,
    )}
    i32.const 0 local.set j8
    ;; Two of the line's numbers a pass while two are left: each row's line address read once.
    block
      loop
        local.get fp i32.const 4 i32.add local.get fe i32.ge_u br_if 1
        local.get phi local.get fp i32.load i32.add local.set po
        local.get phi local.get fp i32.load offset=4 i32.add local.set po2
        ${pairs(`
          local.get off ${r8} i32.add v128.load local.set o2
          local.get o2 i64x2.extract_lane 0 i32.wrap_i64 local.get j8 i32.add local.set a0
          local.get o2 i64x2.extract_lane 1 i32.wrap_i64 local.get j8 i32.add local.set a1
          local.get po ${r8} i32.add local.tee q
          local.get q v128.load
          local.get a1 local.get a0 v128.load64_zero v128.load64_lane 1
          f64x2.add
          v128.store
          local.get po2 ${r8} i32.add local.tee q
          local.get q v128.load
          local.get a1 local.get a0 v128.load64_zero offset=8 v128.load64_lane offset=8 1
          f64x2.add
          v128.store`)}
        local.get fp i32.const 8 i32.add local.set fp
        local.get j8 i32.const 16 i32.add local.set j8
        br 0
      end
    end
    ${records(
      'fp',
      'fe',
      4,
      `
      local.get phi local.get fp i32.load i32.add local.set po
      ${pairs(`
        local.get off ${r8} i32.add v128.load local.set o2
        local.get po ${r8} i32.add local.tee q
        local.get q v128.load
        local.get o2 i64x2.extract_lane 1 i32.wrap_i64 local.get j8 i32.add
        local.get o2 i64x2.extract_lane 0 i32.wrap_i64 local.get j8 i32.add v128.load64_zero
        v128.load64_lane 1
        f64x2.add
        v128.store`)}
      local.get j8 i32.const 8 i32.add local.set j8`,
    )}`,
  )}`;
}

/** The walk's parameters (byte addresses, but n, the rows, steps, the tree's depth, and room, each row's bytes of terms), and its locals. */
const WALK_PARAMS = ['x', 'out', 'lengths', 'n', 'steps', 'nodes', 'terms', 'room'];
const WALK_ROWS = [0, 1, 2, 3];
const WALK_LOCALS = [
  'r',
  'k',
  't',
  'o',
  ...['xo', 'nd', 'tp'].flatMap((v) => WALK_ROWS.map((j) => `${v}${j}`)),
];
const WALK_DOUBLES = [
  'zero',
  'kf',
  'v',
  'l',
  'h',
  'w',
  'leaf',
  ...['s', 'e'].flatMap((v) => WALK_ROWS.map((j) => `${v}${j}`)),
];

/**
 * isolateChunk (explain.ts), four rows side by side so that their walks' load chains overlap: each
 * walks the tree's `steps` levels (a leaf's record points to itself with the range (−∞, +∞)),
 * keeps each cut's (w, depth, feature offset) in its `terms`, then adds ended + survive · V to its
 * length and the terms w · (V − depth) to their features in path order: the same operations in the
 * same order, so the same numbers. n is a multiple of four. (Measured and not kept: a branch-free
 * cut, p = (max(v − hi, 0) + max(lo − v, 0)) / max(v − lo, hi − v) at every node with `select`,
 * 1.08× slower; eight rows side by side, no faster.)
 *
 * Node records (NODE_BYTES each, the tree's root first): threshold, lo, hi, value (f64), then the
 * x offset of the node's feature (f · CHUNK_ROWS · 8) and the byte offset of its left child's
 * record (the right one follows it).
 */
function walkText(): string {
  const each = (text: (j: number) => string): string => WALK_ROWS.map(text).join('\n');
  return `
  i32.const 0 local.set r
  loop
    ${each(
      (j) => `
      local.get x local.get r i32.const ${j} i32.add i32.const 3 i32.shl i32.add local.set xo${j}
      local.get nodes local.set nd${j}
      i32.const 1 f64.convert_i32_s local.set s${j}
      i32.const 0 f64.convert_i32_s local.set e${j}
      local.get terms local.get room i32.const ${j} i32.mul i32.add local.set tp${j}`,
    )}
    i32.const 1 local.set k
    loop
      local.get k f64.convert_i32_s local.set kf
      ${each(
        (j) => `
        local.get xo${j} local.get nd${j} i32.load offset=32 i32.add f64.load local.set v
        local.get nd${j} f64.load offset=8 local.set l
        local.get nd${j} f64.load offset=16 local.set h
        local.get v local.get h f64.gt local.get v local.get l f64.lt i32.or
        if
          local.get s${j}
          local.get v local.get h f64.gt
          if (result f64)
            local.get v local.get h f64.sub local.get v local.get l f64.sub f64.div
          else
            local.get l local.get v f64.sub local.get h local.get v f64.sub f64.div
          end
          f64.mul local.set w
          local.get e${j} local.get w local.get kf f64.mul f64.add local.set e${j}
          local.get s${j} local.get w f64.sub local.set s${j}
          local.get tp${j} local.get w f64.store
          local.get tp${j} local.get kf f64.store offset=8
          local.get tp${j} local.get nd${j} i32.load offset=32 i32.store offset=16
          local.get tp${j} i32.const 24 i32.add local.set tp${j}
        end
        local.get nodes local.get nd${j} i32.load offset=36 i32.add
        local.get v local.get nd${j} f64.load f64.gt i32.const ${NODE_BYTES} i32.mul
        i32.add local.set nd${j}`,
      )}
      local.get k i32.const 1 i32.add local.tee k local.get steps i32.le_u br_if 0
    end
    ${each(
      (j) => `
      local.get nd${j} f64.load offset=24 local.set leaf
      local.get lengths local.get r i32.const ${j} i32.add i32.const 3 i32.shl i32.add local.tee o
      local.get o f64.load local.get e${j} local.get s${j} local.get leaf f64.mul f64.add f64.add
      f64.store
      local.get terms local.get room i32.const ${j} i32.mul i32.add local.set t
      block
        local.get t local.get tp${j} i32.ge_u br_if 0
        loop
          local.get out local.get r i32.const ${j} i32.add i32.const 3 i32.shl i32.add
          local.get t i32.load offset=16 i32.add local.tee o
          local.get o f64.load
          local.get t f64.load local.get leaf local.get t f64.load offset=8 f64.sub f64.mul
          f64.add
          f64.store
          local.get t i32.const 24 i32.add local.tee t local.get tp${j} i32.lt_u br_if 0
        end
      end`,
    )}
    local.get r i32.const 4 i32.add local.tee r local.get n i32.lt_u br_if 0
  end`;
}

function moduleBytes(chunkRows: number): Uint8Array {
  const I32 = 0x7f;
  const F64 = 0x7c;
  const V128 = 0x7b;
  const signature = (params: readonly string[]): number[] => [
    0x60,
    ...vec(params.map(() => [I32])),
    ...vec([]),
  ];
  const type = section(1, vec([signature(PARAMS), signature(WALK_PARAMS)]));
  const memory = section(2, vec([[...name('m'), ...name('memory'), 0x02, 0x00, ...uleb(1)]]));
  const functions = section(3, vec([uleb(0), uleb(1)]));
  const exports = section(
    7,
    vec([
      [...name('accumulate'), 0x00, ...uleb(0)],
      [...name('isolate'), 0x00, ...uleb(1)],
    ]),
  );
  const accumulate = [
    ...vec([
      [...uleb(LOCALS.length), I32],
      [...uleb(VECTORS.length), V128],
    ]),
    ...assemble(kernelText(chunkRows), [...PARAMS, ...LOCALS, ...VECTORS]),
    0x0b,
  ];
  const walk = [
    ...vec([
      [...uleb(WALK_LOCALS.length), I32],
      [...uleb(WALK_DOUBLES.length), F64],
    ]),
    ...assemble(walkText(), [...WALK_PARAMS, ...WALK_LOCALS, ...WALK_DOUBLES]),
    0x0b,
  ];
  const code = section(
    10,
    vec([
      [...uleb(accumulate.length), ...accumulate],
      [...uleb(walk.length), ...walk],
    ]),
  );
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  return Uint8Array.from([...header, ...type, ...memory, ...functions, ...exports, ...code]);
}

/** The program of one tree's table for the kernel (see the top of this file), built once per table. */
export interface Program {
  readonly bytes: Uint8Array;
  /** Where the group records start and end: the top records end where they start. */
  readonly topEnd: number;
  readonly groupEnd: number;
}

/** What programOf reads of a table: everything but its lines, its program and its size. */
type TableLayout = Omit<TreeTable, 'values' | 'program' | 'bytes'>;

/** A table's program, for chunks of `chunkRows` rows; `bit` is ShapPaths.bit. */
export function programOf(
  table: TableLayout,
  nodes: { readonly feature: Int32Array; readonly threshold: Float64Array; readonly left: Int32Array },
  bit: Int32Array,
  chunkRows: number,
): Program {
  const { feature, threshold, left } = nodes;
  const tops = table.top.length;
  const inners = table.inner.length;
  const groupAt = 24 * tops;
  const innerAt = groupAt + 32 * table.groups;
  const featureAt = innerAt + 16 * inners;
  const size = featureAt + 4 * table.feature.length;
  const buffer = new ArrayBuffer((size + 7) & ~7);
  const ints = new Int32Array(buffer);
  const doubles = new Float64Array(buffer);
  const xStride = chunkRows * 8;
  const failStride = chunkRows * MASK_BYTES;
  for (let i = 0; i < tops; i++) {
    const n = table.top[i]!;
    const o = 6 * i;
    ints[o] = feature[n]! * xStride;
    ints[o + 1] = bit[n]!;
    ints[o + 2] = (n - table.start) * failStride;
    ints[o + 3] = (left[n]! - table.start) * failStride;
    doubles[o / 2 + 2] = threshold[n]!;
  }
  for (let g = 0; g < table.groups; g++) {
    const o = groupAt / 4 + 8 * g;
    ints[o] = table.base[g]! * 8;
    ints[o + 1] = table.width[g]! * 8;
    ints[o + 2] = table.all[g]!;
    ints[o + 3] = (table.root[g]! - table.start) * failStride;
    ints[o + 4] = innerAt + 16 * table.innerAt[g]!;
    ints[o + 5] = innerAt + 16 * table.innerAt[g + 1]!;
    ints[o + 6] = featureAt + 4 * table.featureAt[g]!;
    ints[o + 7] = featureAt + 4 * table.featureAt[g + 1]!;
  }
  for (let i = 0; i < inners; i++) {
    const n = table.inner[i]!;
    const o = innerAt / 4 + 4 * i;
    ints[o] = feature[n]! * xStride;
    ints[o + 1] = table.step[i]! * 8;
    doubles[o / 2 + 1] = threshold[n]!;
  }
  for (let j = 0; j < table.feature.length; j++) ints[featureAt / 4 + j] = table.feature[j]! * xStride;
  return { bytes: new Uint8Array(buffer, 0, size), topEnd: groupAt, groupEnd: innerAt };
}

type Accumulate = (
  x: number,
  phi: number,
  fail: number,
  off: number,
  n: number,
  top: number,
  topEnd: number,
  group: number,
  groupEnd: number,
  values: number,
) => void;

/** The part of the WebAssembly API used here (the backend compiles without the DOM's types). */
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
}
const wasm = (globalThis as { WebAssembly?: Wasm }).WebAssembly;

const compiled = new Map<number, object>();
let enabled = wasm !== undefined;

/**
 * Whether explainRows uses the kernel (true by default where the runtime has WebAssembly); returns
 * the previous setting. Tests turn it off to compare with TreeTables.accumulateChunk.
 */
export function useKernel(on: boolean): boolean {
  const previous = enabled;
  enabled = on && wasm !== undefined;
  return previous;
}

type Isolate = (
  x: number,
  out: number,
  lengths: number,
  n: number,
  steps: number,
  nodes: number,
  terms: number,
  room: number,
) => void;

/** What the walk reads of the forest. */
type Nodes = Pick<
  TreeArrays,
  'feature' | 'threshold' | 'left' | 'value' | 'lo' | 'hi' | 'treeStart' | 'depth'
>;

/**
 * One batch's WebAssembly memory and functions: a block's rows, φ, and for 'isolate' the isolation
 * terms and path lengths (`x`, `phi`, `isolation` and `lengths` are views of it, laid out as
 * explainRows holds them), and room for one tree's program, lines, masks and node records at a
 * time. A tree is loaded (its program and lines copied in, about 0.2 MiB for 256 samples, and its
 * nodes written as records) and then every chunk of the block is run through it.
 */
export class KernelBatch {
  readonly x: Float64Array;
  readonly phi: Float64Array;
  readonly isolation: Float64Array;
  readonly lengths: Float64Array;
  private readonly bytes: Uint8Array;
  private readonly ints: Int32Array;
  private readonly doubles: Float64Array;
  private readonly accumulate: Accumulate;
  private readonly walk: Isolate;
  private readonly programBytes: number;
  private readonly valuesAt: number;
  private readonly failAt: number;
  private readonly offAt: number;
  private readonly nodesAt: number;
  private readonly termsAt: number;
  private readonly termsRoom: number;
  private readonly xAt: number;
  private readonly phiAt: number;
  private readonly isolationAt: number;
  private readonly lengthsAt: number;
  private topEnd = 0;
  private groupEnd = 0;
  private steps = 0;

  /** Null where the kernel is off or the runtime has no WebAssembly. */
  static create(
    room: number,
    blockRows: number,
    maxTreeNodes: number,
    chunkRows: number,
    maxDoubles: number,
  ): KernelBatch | null {
    if (!enabled || !wasm) return null;
    let module = compiled.get(chunkRows);
    if (!module) {
      module = new wasm.Module(moduleBytes(chunkRows));
      compiled.set(chunkRows, module);
    }
    return new KernelBatch(module, wasm, room, blockRows, maxTreeNodes, chunkRows, maxDoubles);
  }

  private constructor(
    module: object,
    api: Wasm,
    room: number,
    blockRows: number,
    maxTreeNodes: number,
    private readonly chunkRows: number,
    maxDoubles: number,
  ) {
    this.programBytes = PROGRAM_BYTES_PER_NODE * maxTreeNodes;
    this.valuesAt = this.programBytes;
    this.failAt = this.valuesAt + maxDoubles * 8;
    this.offAt = this.failAt + maxTreeNodes * chunkRows * MASK_BYTES;
    this.nodesAt = this.offAt + chunkRows * MASK_BYTES;
    this.termsAt = this.nodesAt + maxTreeNodes * NODE_BYTES;
    this.termsRoom = maxTreeNodes * 24;
    this.xAt = this.termsAt + WALK_ROWS.length * this.termsRoom;
    this.phiAt = this.xAt + room * 8;
    this.isolationAt = this.phiAt + room * 8;
    this.lengthsAt = this.isolationAt + room * 8;
    // Lengths to the end of the last chunk: the walk takes rows four at a time.
    const lengthsEnd = this.lengthsAt + Math.ceil(blockRows / chunkRows) * chunkRows * 8;
    const memory = new api.Memory({ initial: Math.ceil(lengthsEnd / 65536) });
    const instance = new api.Instance(module, { m: { memory } });
    this.accumulate = instance.exports['accumulate'] as Accumulate;
    this.walk = instance.exports['isolate'] as Isolate;
    this.bytes = new Uint8Array(memory.buffer);
    this.ints = new Int32Array(memory.buffer);
    this.doubles = new Float64Array(memory.buffer);
    this.x = new Float64Array(memory.buffer, this.xAt, room);
    this.phi = new Float64Array(memory.buffer, this.phiAt, room);
    this.isolation = new Float64Array(memory.buffer, this.isolationAt, room);
    this.lengths = new Float64Array(memory.buffer, this.lengthsAt, blockRows);
  }

  /** Makes `values` (a table's lines) and its program the tree the next chunks run through; false when the program does not fit. */
  load(program: Program, values: Float64Array): boolean {
    if (program.bytes.length > this.programBytes) return false;
    this.bytes.set(program.bytes, 0);
    this.doubles.set(values, this.valuesAt / 8);
    this.topEnd = program.topEnd;
    this.groupEnd = program.groupEnd;
    return true;
  }

  /** accumulateChunk on the loaded tree for `count` rows from x[at …], into phi[at …]. */
  run(at: number, count: number): void {
    this.accumulate(
      this.xAt + at * 8,
      this.phiAt + at * 8,
      this.failAt,
      this.offAt,
      count + (count & 1), // an odd chunk's last pair computes a row past its end: unread
      0,
      this.topEnd,
      this.topEnd,
      this.groupEnd,
      this.valuesAt,
    );
  }

  /** Writes tree t's node records for `isolate`. */
  loadNodes(nodes: Nodes, t: number): void {
    const { feature, threshold, left, value, lo, hi, treeStart, depth } = nodes;
    const { ints, doubles } = this;
    const start = treeStart[t]!;
    const xStride = this.chunkRows * 8;
    for (let n = start, at = this.nodesAt; n < treeStart[t + 1]!; n++, at += NODE_BYTES) {
      doubles[at / 8] = threshold[n]!;
      doubles[at / 8 + 1] = lo[n]!;
      doubles[at / 8 + 2] = hi[n]!;
      doubles[at / 8 + 3] = value[n]!;
      ints[at / 4 + 8] = feature[n]! * xStride;
      ints[at / 4 + 9] = (left[n]! - start) * NODE_BYTES;
    }
    this.steps = depth[t]!;
  }

  /** isolateChunk on the tree whose nodes are loaded, for `count` rows from x[at …]: terms into isolation[at …], path lengths into lengths[lengthAt …]. */
  isolate(at: number, count: number, lengthAt: number): void {
    this.walk(
      this.xAt + at * 8,
      this.isolationAt + at * 8,
      this.lengthsAt + lengthAt * 8,
      count + (-count & 3), // the rows past the chunk's end are computed and unread
      this.steps,
      this.nodesAt,
      this.termsAt,
      this.termsRoom,
    );
  }
}

/** A row's failed mask and line address are i64 lanes. */
const MASK_BYTES = 8;

/**
 * Room for a tree's program, per node: a top, group and inner record each at most (72 bytes), and
 * a group's features, at most 12 (a table of at most 2^12 numbers has a + s ≤ 12 bits, and a group
 * has at most a + s features; a leaf alone at most TABLE_MAX_DEPTH = 12): 48 bytes.
 */
const PROGRAM_BYTES_PER_NODE = 120;
/** A node's record for the walk (walkText). */
const NODE_BYTES = 40;
