import { EngineError } from '../errors.js';
import { IsolationForest, type ForestParams } from './forest.js';
import { NodeBuffer } from './grow.js';

/**
 * The forest's binary format, versions 1 and 2. Little-endian throughout.
 *
 *   offset  size  field
 *   0       4     magic "ISOF"
 *   4       2     format version: 1 for outOfRange 'clamp', 2 for 'isolate'
 *   6       2     flags: bit 0 = outOfRange 'isolate' (version 2); 0 in version 1
 *   8       4     total byte length, checksum included (a shorter blob was truncated)
 *   12      4     nFeatures
 *   16      4     trees
 *   20      4     maxSamples
 *   24      4     seed
 *   28      8     contamination (NaN = 'auto')
 *   36      8     threshold
 *   44      4     node count (all trees)
 *   48      …     each tree's nodes in pre-order:
 *                   inner node: u32 feature (high bit clear), f64 split value,
 *                               and in version 2 f64 lo, f64 hi (the feature's range there)
 *                   leaf:       u32 0x80000000 | training points that reached it
 *   end−4   4     CRC-32 (IEEE) of every byte before it
 *
 * Pre-order with implicit children stores neither child indices, nor covers of inner nodes, nor
 * leaf values: all of them are rebuilt on load (a leaf's value is depth + c(cover)), so a node
 * costs 12 bytes inside (28 with its range) and 4 at a leaf, and the round trip is bit-exact.
 * A 'clamp' forest never reads its ranges, so it is still written as version 1: byte for byte
 * what earlier releases wrote and read.
 */
export const FORMAT_VERSION = 2;
const ISOLATE_FLAG = 1;
const MAGIC = 0x464f5349; // "ISOF" read as a little-endian u32
const HEADER_BYTES = 48;
const LEAF_FLAG = 0x80000000;

export function serializeForest(forest: IsolationForest): Uint8Array {
  const { nodes, params } = forest;
  const total = nodes.left.length;
  let leaves = 0;
  for (let i = 0; i < total; i++) if (nodes.left[i] === i) leaves++;
  const isolate = params.outOfRange === 'isolate';
  const inner = isolate ? 28 : 12;
  const byteLength = HEADER_BYTES + leaves * 4 + (total - leaves) * inner + 4;
  const bytes = new Uint8Array(byteLength);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint16(4, isolate ? 2 : 1, true);
  view.setUint16(6, isolate ? ISOLATE_FLAG : 0, true);
  view.setUint32(8, byteLength, true);
  view.setUint32(12, params.nFeatures, true);
  view.setUint32(16, params.trees, true);
  view.setUint32(20, params.maxSamples, true);
  view.setUint32(24, params.seed, true);
  view.setFloat64(28, params.contamination === 'auto' ? NaN : params.contamination, true);
  view.setFloat64(36, forest.threshold, true);
  view.setUint32(44, total, true);

  let at = HEADER_BYTES;
  const stack: number[] = [];
  for (let t = 0; t < params.trees; t++) {
    stack.push(nodes.treeStart[t]!);
    while (stack.length > 0) {
      const i = stack.pop()!;
      const left = nodes.left[i]!;
      if (left === i) {
        view.setUint32(at, (LEAF_FLAG | nodes.cover[i]!) >>> 0, true);
        at += 4;
      } else {
        view.setUint32(at, nodes.feature[i]!, true);
        view.setFloat64(at + 4, nodes.threshold[i]!, true);
        if (isolate) {
          view.setFloat64(at + 12, nodes.lo[i]!, true);
          view.setFloat64(at + 20, nodes.hi[i]!, true);
        }
        at += inner;
        stack.push(left + 1, left); // left is popped first: pre-order
      }
    }
  }
  view.setUint32(at, crc32(bytes, 0, at), true);
  return bytes;
}

export function deserializeForest(bytes: Uint8Array): IsolationForest {
  if (bytes.length < 12)
    throw new EngineError('FORMAT_TRUNCATED', `model is ${bytes.length} bytes: too short for a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) {
    throw new EngineError('FORMAT_MAGIC', 'not an Isoscope forest: the first bytes are not "ISOF"');
  }
  const version = view.getUint16(4, true);
  if (version > FORMAT_VERSION) {
    throw new EngineError(
      'FORMAT_VERSION',
      `model format version ${version} is newer than this Isoscope reads (${FORMAT_VERSION}): upgrade Isoscope`,
    );
  }
  if (version < 1) throw new EngineError('FORMAT_CORRUPT', `model format version ${version} does not exist`);
  const byteLength = view.getUint32(8, true);
  if (bytes.length < byteLength) {
    throw new EngineError('FORMAT_TRUNCATED', `model is truncated: ${bytes.length} of ${byteLength} bytes`);
  }
  if (bytes.length > byteLength || byteLength < HEADER_BYTES + 4) {
    throw new EngineError(
      'FORMAT_CORRUPT',
      `model length ${bytes.length} does not match its header (${byteLength})`,
    );
  }
  const stored = view.getUint32(byteLength - 4, true);
  if (crc32(bytes, 0, byteLength - 4) !== stored) {
    throw new EngineError(
      'FORMAT_CORRUPT',
      'model checksum does not match: the bytes were changed after saving',
    );
  }

  const nFeatures = view.getUint32(12, true);
  const trees = view.getUint32(16, true);
  const maxSamples = view.getUint32(20, true);
  const seed = view.getUint32(24, true);
  const contaminationRaw = view.getFloat64(28, true);
  const threshold = view.getFloat64(36, true);
  const total = view.getUint32(44, true);
  const flags = view.getUint16(6, true);
  const isolate = version >= 2 && (flags & ISOLATE_FLAG) !== 0;
  const inner = isolate ? 28 : 12;
  const corrupt = (why: string): never => {
    throw new EngineError('FORMAT_CORRUPT', `model structure is invalid: ${why}`);
  };
  if (nFeatures < 1 || trees < 1 || maxSamples < 2) corrupt('empty forest');

  const buffer = new NodeBuffer(total);
  const treeStart = new Int32Array(trees + 1);
  const depth = new Int32Array(trees);
  const end = byteLength - 4;
  let at = HEADER_BYTES;
  // Rebuild each tree from pre-order: a stack of (node, depth) slots still waiting for content.
  const stack: number[] = [];
  for (let t = 0; t < trees; t++) {
    treeStart[t] = buffer.size;
    stack.push(buffer.allocate(1), 0);
    let deepest = 0;
    while (stack.length > 0) {
      const d = stack.pop()!;
      const i = stack.pop()!;
      if (at + 4 > end) corrupt('node records end early');
      const word = view.getUint32(at, true);
      if (word & LEAF_FLAG) {
        const cover = word & ~LEAF_FLAG;
        if (cover > maxSamples) corrupt(`leaf holds ${cover} points, more than maxSamples`);
        // Growing never makes an empty leaf, and the explanations' cover ratios would be 0.
        if (cover === 0) corrupt('leaf holds no points');
        buffer.setLeaf(i, cover, d);
        if (d > deepest) deepest = d;
        at += 4;
      } else {
        if (at + inner > end) corrupt('node records end early');
        if (word >= nFeatures) corrupt(`split on feature ${word} of ${nFeatures}`);
        const left = buffer.allocate(2);
        const [lo, hi] = isolate
          ? [view.getFloat64(at + 12, true), view.getFloat64(at + 20, true)]
          : [-Infinity, Infinity];
        buffer.setSplit(i, word, view.getFloat64(at + 4, true), left, 0, lo, hi);
        at += inner;
        stack.push(left + 1, d + 1, left, d + 1);
      }
      if (buffer.size > total) corrupt('more nodes than the header says');
    }
    depth[t] = deepest;
  }
  treeStart[trees] = buffer.size;
  if (buffer.size !== total || at !== end) corrupt('node count does not match the header');
  // Inner covers are the sums of their children's (children always come after their parent).
  for (let i = buffer.size - 1; i >= 0; i--) {
    const left = buffer.left[i]!;
    if (left !== i) buffer.cover[i] = buffer.cover[left]! + buffer.cover[left + 1]!;
  }
  const params: ForestParams = {
    trees,
    maxSamples,
    nFeatures,
    seed,
    contamination: Number.isNaN(contaminationRaw) ? 'auto' : contaminationRaw,
    outOfRange: isolate ? 'isolate' : 'clamp',
  };
  return IsolationForest.fromParts(params, threshold, buffer.toArrays(treeStart, depth));
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zlib and PNG compute it. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = crcTable[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
