import { createHash } from 'node:crypto';

/**
 * Shards group a detector's entities so one queued job scores many of them: shard =
 * FNV-1a(detector \0 entity) mod N. The hash is fixed (not Node's random-seeded one), so every
 * replica, and every version of the code, puts an entity in the same shard; N is a setting
 * (ISOSCOPE_SHARDS) and changing it moves entities between shards, which is safe because each
 * entity's state carries its own cursor (a shard job scores an entity only past its cursor).
 */
export function shardOf(detectorId: string, entity: string, shards: number): number {
  let h = 0x811c9dc5;
  const text = `${detectorId}\u0000${entity}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

/** The job's singleton key: one job per (detector, shard, interval end), whoever enqueues it. */
export function singletonKey(detectorId: string, shard: number, to: number): string {
  return `${detectorId}:${shard}:${to}`;
}

/**
 * A UUID derived from the singleton key (name-based, like RFC 4122 version 5 over SHA-1), used as
 * the pg-boss job id: two replicas that enqueue the same (detector, shard, interval) insert the
 * same primary key, and pg-boss's insert keeps the first (ON CONFLICT DO NOTHING). The queue's
 * `short` policy alone would only refuse a second copy while the first is still queued.
 */
export function jobId(key: string): string {
  const h = createHash('sha1').update(`isoscope-shard-job\u0000${key}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * The two 32-bit keys of the shard's PostgreSQL advisory lock: a namespace for Isoscope's shard
 * locks (so other users of the database are not blocked) and a hash of (detector, shard).
 */
export function lockKeys(detectorId: string, shard: number): [number, number] {
  const h = createHash('sha1').update(`${detectorId}\u0000${shard}`).digest();
  return [0x15050001 | 0, h.readInt32BE(0)];
}
