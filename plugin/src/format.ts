import { dateTimeFormat, type DateTimeInput } from '@grafana/data';

/**
 * A moment as every page writes it: Grafana's date format (YYYY-MM-DD HH:mm:ss) in the user's time
 * zone. Grafana resolves the zone (the user's preference, else the browser's) when none is given; a
 * panel passes its dashboard's.
 */
export function formatTime(time: DateTimeInput, timeZone?: string): string {
  return dateTimeFormat(time, timeZone ? { timeZone } : undefined);
}

/** A span of seconds in words for a sentence: `hour`, `2 hours`, `30 minutes`, `90 seconds`. */
export function spanWords(seconds: number, one: 'bare' | 'counted'): string {
  const units: Array<[number, string]> = [
    [86_400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  const [size, name] = units.find(([size]) => seconds >= size && seconds % size === 0) ?? [1, 'second'];
  const n = seconds / size;
  if (n === 1) {
    return one === 'bare' ? name : `1 ${name}`;
  }
  return `${n} ${name}s`;
}

/**
 * A model feature's name in plain words. The engine names features `<field>` (its value),
 * `<field>.lag<k>` (k intervals earlier), `<field>.delta` (change since the previous interval),
 * `<field>.rate` (that change per second), `<field>.z<n>` (the value against its own last n
 * intervals, as a z-score) and `time.hour_*` / `time.weekday_*` (time of day and day of week as
 * sine and cosine). A dotted field (`cpu.usage_user`) reads as words (`cpu usage_user`).
 * `cpu.usage_user.z60` at a 60 s interval reads "cpu usage_user, vs its last hour".
 */
export function featureLabel(name: string, intervalSeconds = 60): string {
  const time = /^time\.(hour|weekday)_(sin|cos)$/.exec(name);
  if (time) {
    return `${time[1] === 'hour' ? 'time of day' : 'day of week'} (${time[2] === 'sin' ? 'sine' : 'cosine'})`;
  }
  const m = /^(.+)\.(?:z(\d+)|lag(\d+)|(delta)|(rate))$/.exec(name);
  const base = (m ? m[1]! : name).split('.').join(' ');
  if (!m) {
    return base;
  }
  const interval = Math.max(1, intervalSeconds);
  if (m[2]) {
    return `${base}, vs its last ${spanWords(Number(m[2]) * interval, 'bare')}`;
  }
  if (m[3]) {
    return `${base}, ${spanWords(Number(m[3]) * interval, 'counted')} earlier`;
  }
  if (m[4]) {
    return `${base}, change over ${spanWords(interval, 'counted')}`;
  }
  return `${base}, change per second`;
}
