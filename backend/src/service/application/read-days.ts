import type { EntitySeries } from '../../io/influx/index.js';

const DAY = 86_400_000;

/**
 * A long window read a day at a time and joined per entity, in the order entities first appear:
 * one query for a week of a fleet (or the two weeks an explanation may replay) is a large answer
 * that a busy InfluxDB may not finish streaming before the client's timeout. `readDay` reads
 * [from, to) of one day (with retries or progress, as the caller wants).
 */
export async function readByDays(
  from: number,
  to: number,
  readDay: (from: number, to: number) => Promise<EntitySeries[]>,
): Promise<EntitySeries[]> {
  const parts = new Map<string, EntitySeries[]>();
  for (let t = from; t < to; t += DAY)
    for (const s of await readDay(t, Math.min(to, t + DAY))) {
      const list = parts.get(s.entity);
      if (list) list.push(s);
      else parts.set(s.entity, [s]);
    }
  return [...parts].map(([entity, list]) => ({
    entity,
    timeMs: join(list.map((s) => s.timeMs)),
    values: list[0]!.values.map((_, c) => join(list.map((s) => s.values[c]!))),
  }));
}

function join(arrays: Float64Array[]): Float64Array {
  const out = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}
