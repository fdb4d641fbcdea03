/**
 * Parses the timestamps people export from databases and spreadsheets, to epoch milliseconds (UTC):
 * - RFC 3339 / ISO 8601 with `T` or a space between date and time, optional fractional seconds,
 *   optional zone (`Z`, `+02:00`, `+0200`); no zone means UTC;
 * - a date alone (`2024-05-01`, midnight UTC);
 * - epoch numbers: below 1e11 they are seconds (1e11 s is the year 5138), otherwise milliseconds.
 * Returns NaN for anything else, so the caller can name the row and column.
 */
export function parseTimestamp(text: string): number {
  const s = text.trim();
  if (s === '') return Number.NaN;
  if (/^-?\d+(\.\d+)?$/.test(s)) {
    const v = Number(s);
    return Math.abs(v) < 1e11 ? v * 1000 : v;
  }
  const m = ISO.exec(s);
  if (!m) return Number.NaN;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone] = m;
  const ms = frac === '' ? 0 : Number(`0.${frac}`) * 1000;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), 0) + ms;
  // Date.UTC rolls over out-of-range parts (month 13, hour 25); refuse them instead.
  const back = new Date(t - ms);
  if (
    back.getUTCFullYear() !== Number(y) ||
    back.getUTCMonth() !== Number(mo) - 1 ||
    back.getUTCDate() !== Number(d) ||
    back.getUTCHours() !== Number(h) ||
    back.getUTCMinutes() !== Number(mi) ||
    back.getUTCSeconds() !== Number(sec)
  ) {
    return Number.NaN;
  }
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    const offset = (Number(z[2]) * 60 + Number(z[3])) * 60_000;
    t -= z[1] === '+' ? offset : -offset;
  }
  return t;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}:?\d{2})?$/;
