import { jobId, lockKeys, shardOf, singletonKey } from './shards.js';

describe('shards', () => {
  it('puts an entity in the same shard every time, within range, and spreads a fleet evenly', () => {
    const counts = new Array<number>(32).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const s = shardOf('cpu', `host-${i}`, 32);
      expect(s).toBe(shardOf('cpu', `host-${i}`, 32));
      counts[s]!++;
    }
    // 312.5 expected per shard; a fixed hash of these names stays within ±20 %.
    expect(Math.min(...counts)).toBeGreaterThan(250);
    expect(Math.max(...counts)).toBeLessThan(375);
    // The detector is part of the key: two detectors do not put the same host in the same shard.
    const same = Array.from(
      { length: 1000 },
      (_, i) => shardOf('cpu', `h${i}`, 32) === shardOf('mem', `h${i}`, 32),
    );
    expect(same.filter(Boolean).length).toBeLessThan(100);
  });

  it('derives one UUID per (detector, shard, interval), so a second enqueue meets the first', () => {
    const a = jobId(singletonKey('cpu', 3, 60_000));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(jobId(singletonKey('cpu', 3, 60_000))).toBe(a);
    expect(jobId(singletonKey('cpu', 3, 120_000))).not.toBe(a);
    expect(jobId(singletonKey('cpu', 4, 60_000))).not.toBe(a);
  });

  it('locks per (detector, shard) in a namespace of its own', () => {
    const [ns, key] = lockKeys('cpu', 3);
    expect(lockKeys('cpu', 3)).toEqual([ns, key]);
    expect(lockKeys('cpu', 4)[1]).not.toBe(key);
    expect(lockKeys('mem', 3)[0]).toBe(ns);
  });
});
