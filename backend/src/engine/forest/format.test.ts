import { EngineError } from '../errors.js';
import { IsolationForest } from './forest.js';
import { crc32, FORMAT_VERSION } from './format.js';
import { Random } from './random.js';

function fitted(): IsolationForest {
  const rng = new Random(11);
  const data = new Float64Array(3000 * 6);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * (1 + (i % 6));
  return IsolationForest.fit({ rows: 3000, cols: 6, data }, { seed: 7, contamination: 0.02 });
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof EngineError) return err.code;
    throw err;
  }
  return 'no error';
}

describe('forest binary format', () => {
  const forest = fitted();
  const bytes = forest.serialize();

  it('CRC-32 is the IEEE one (zlib)', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('round-trips bit-exactly: same bytes again, same nodes, same scores', () => {
    const back = IsolationForest.deserialize(bytes);
    expect(Buffer.from(back.serialize()).equals(Buffer.from(bytes))).toBe(true);
    expect(back.params).toEqual(forest.params);
    expect(back.threshold).toBe(forest.threshold);
    for (const key of ['feature', 'threshold', 'left', 'cover', 'value', 'treeStart', 'depth'] as const) {
      expect(Array.from(back.nodes[key])).toEqual(Array.from(forest.nodes[key]));
    }
    const rng = new Random(3);
    const probe = new Float64Array(500 * 6).map(() => rng.normal() * 4);
    const x = { rows: 500, cols: 6, data: probe };
    expect(Array.from(back.scoreBatch(x))).toEqual(Array.from(forest.scoreBatch(x)));
  });

  it("writes a 'clamp' forest as version 1, as earlier releases did", () => {
    expect(new DataView(bytes.buffer).getUint16(4, true)).toBe(1);
  });

  it("round-trips an 'isolate' forest as version 2 with its ranges, scoring beyond them the same", () => {
    const rng = new Random(11);
    const data = new Float64Array(3000 * 6).map(() => rng.normal());
    const isolating = IsolationForest.fit(
      { rows: 3000, cols: 6, data },
      { seed: 7, contamination: 0.02, outOfRange: 'isolate' },
    );
    const blob = isolating.serialize();
    expect(new DataView(blob.buffer).getUint16(4, true)).toBe(2);
    const back = IsolationForest.deserialize(blob);
    expect(back.params.outOfRange).toBe('isolate');
    expect(Buffer.from(back.serialize()).equals(Buffer.from(blob))).toBe(true);
    for (const key of ['lo', 'hi'] as const) {
      expect(Array.from(back.nodes[key])).toEqual(Array.from(isolating.nodes[key]));
    }
    const far = [0, 0, 40, 0, 0, 0];
    expect(back.scoreOne(far)).toBe(isolating.scoreOne(far));
  });

  it('keeps contamination auto as auto', () => {
    const auto = IsolationForest.fit({
      rows: 10,
      cols: 1,
      data: Float64Array.from({ length: 10 }, (_, i) => i),
    });
    expect(IsolationForest.deserialize(auto.serialize()).params.contamination).toBe('auto');
  });

  it('is small: a few bytes per node', () => {
    expect(bytes.length).toBeLessThan(forest.nodes.left.length * 9 + 100);
  });

  it('refuses a truncated blob, saying so', () => {
    expect(codeOf(() => IsolationForest.deserialize(bytes.slice(0, bytes.length - 1)))).toBe(
      'FORMAT_TRUNCATED',
    );
    expect(codeOf(() => IsolationForest.deserialize(bytes.slice(0, 5)))).toBe('FORMAT_TRUNCATED');
  });

  it('refuses a corrupted blob (any flipped byte) by its checksum', () => {
    for (const at of [13, 60, Math.floor(bytes.length / 2), bytes.length - 2]) {
      const bad = bytes.slice();
      bad[at] ^= 0x10;
      expect(codeOf(() => IsolationForest.deserialize(bad))).toBe('FORMAT_CORRUPT');
    }
  });

  it('refuses a leaf that holds no points (growing never makes one)', () => {
    const bad = bytes.slice();
    const view = new DataView(bad.buffer);
    let at = 48; // the first node record, after the header
    while ((view.getUint32(at, true) & 0x80000000) === 0) at += 12; // inner records of a version-1 forest
    view.setUint32(at, 0x80000000, true);
    view.setUint32(bad.length - 4, crc32(bad, 0, bad.length - 4), true);
    expect(() => IsolationForest.deserialize(bad)).toThrow(/leaf holds no points/);
  });

  it('refuses a newer format version and a blob that is not a forest', () => {
    const newer = bytes.slice();
    new DataView(newer.buffer).setUint16(4, FORMAT_VERSION + 1, true);
    expect(() => IsolationForest.deserialize(newer)).toThrow(/version 3 is newer/);
    expect(
      codeOf(() => IsolationForest.deserialize(new TextEncoder().encode('{"json": true, "model": 1}'))),
    ).toBe('FORMAT_MAGIC');
  });
});
