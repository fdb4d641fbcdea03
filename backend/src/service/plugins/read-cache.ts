import type { FastifyInstance } from 'fastify';
import { RegistryError, type DetectorRecord, type TokenRecord } from '../../io/registry/index.js';

/**
 * What a read request looks up in the registry on every call (its token; the detector it names),
 * kept for a few seconds: at a hundred Grafana queries a second these were two registry reads per
 * query (SQLite: a statement, the row's validation and the spec's decoding; PostgreSQL: two round
 * trips).
 *
 * Why a time limit and not change notifications: the registry has none (no LISTEN/NOTIFY, no
 * version a reader could check without the same round trip), and changes come from other
 * processes too (`isoscope token revoke` writes the registry directly; on PostgreSQL another
 * replica takes a detector's PATCH). So a change made elsewhere is seen within the TTL; a change
 * made through this process's own API (a detector's PATCH or DELETE) drops the entry at once, so
 * its next query sees it. Only what was found is kept: an unknown token or detector is looked up
 * every time (made-up tokens cannot fill the cache, a new detector is seen at once).
 */
export const TOKEN_TTL_MS = 2_000;
export const DETECTOR_TTL_MS = 5_000;
/** Entries per cache: beyond it the oldest go first (a Map keeps insertion order). */
const MAX_ENTRIES = 1_000;

/** Promises of values by key, each good for `ttlMs` of `now()`; concurrent misses share one load. */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { until: number; value: Promise<V> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    /** Whether a loaded value is kept (not: looked up again next time). */
    private readonly keep: (value: V) => boolean = () => true,
    private readonly max = MAX_ENTRIES,
  ) {}

  get(key: K, load: () => Promise<V>): Promise<V> {
    const at = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > at) return hit.value;
    if (hit) this.entries.delete(key);
    const value = load();
    if (this.ttlMs <= 0) return value;
    const entry = { until: at + this.ttlMs, value };
    this.entries.set(key, entry);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as K);
    // A failed load or a value not kept is not cached (only this entry: a newer one may be there).
    const forget = (): void => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    value.then((v) => {
      if (!this.keep(v)) forget();
    }, forget);
    return value;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

interface Caches {
  tokens: TtlCache<string, TokenRecord | undefined>;
  detectors: TtlCache<string, DetectorRecord | undefined>;
}

/** Per registry: route plugins each see their own (encapsulated) instance, but one registry. */
const caches = new WeakMap<object, Caches>();

function cachesOf(app: FastifyInstance): Caches {
  let c = caches.get(app.registry);
  if (!c) {
    // Monotonic, not app.now(): a TTL is elapsed time, and tests freeze the app's clock.
    const now = (): number => performance.now();
    c = {
      tokens: new TtlCache(TOKEN_TTL_MS, now, (t) => t !== undefined && t.revokedAt === undefined),
      detectors: new TtlCache(DETECTOR_TTL_MS, now, (d) => d !== undefined),
    };
    caches.set(app.registry, c);
  }
  return c;
}

/** The registry's record of a token hash (undefined: unknown or revoked), kept TOKEN_TTL_MS. */
export function cachedToken(app: FastifyInstance, hash: string): Promise<TokenRecord | undefined> {
  return cachesOf(app).tokens.get(hash, () => app.registry.findToken(hash));
}

/**
 * A detector's record, kept DETECTOR_TTL_MS; NOT_FOUND when there is no such detector (`what`,
 * when given, says where in the request it was named).
 */
export async function cachedDetector(
  app: FastifyInstance,
  id: string,
  what = 'targets',
): Promise<DetectorRecord> {
  const d = await cachesOf(app).detectors.get(id, () => app.registry.getDetector(id));
  if (!d) throw new RegistryError('NOT_FOUND', `${what ? `${what}: ` : ''}no detector '${id}'`);
  return d;
}

/** Drops a detector's cached record: this process changed or deleted it, its next read looks again. */
export function forgetDetector(app: FastifyInstance, id: string): void {
  cachesOf(app).detectors.delete(id);
}
