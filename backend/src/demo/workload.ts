import { Random } from '../engine/index.js';

/**
 * Nine realistic days of host metrics, as Telegraf reports them (measurement.field names), one row a
 * minute per host, with incidents injected into the last days. Seeded: the same seed gives the
 * same week, so the demo's numbers are reproducible.
 *
 * Normal behaviour has what makes real infrastructure data hard: a daily cycle (busy days, quiet
 * nights), a weekly one (quiet weekends), metrics that move together (requests drive cpu, network
 * and disk), hosts that run at different loads, and heavy-tailed noise (harmless one-minute blips).
 */

export const FIELDS = [
  'cpu.usage_user',
  'cpu.usage_system',
  'cpu.usage_iowait',
  'mem.used_percent',
  'net.bytes_recv',
  'net.bytes_sent',
  'diskio.write_bytes',
  'system.load1',
] as const;

export type IncidentKind = 'cpu-runaway' | 'memory-leak' | 'network-flood' | 'disk-storm' | 'stuck-process';

export interface Incident {
  host: string;
  kind: IncidentKind;
  /** Row indices [start, end] inclusive. */
  start: number;
  end: number;
  /** The fields the incident moves: what a good explanation names. */
  fields: string[];
}

export interface HostSeries {
  host: string;
  /** values[f][t]: field f at minute t. */
  values: Float64Array[];
  /** 1 where an incident is in progress. */
  labels: Uint8Array;
}

export interface Workload {
  startMs: number;
  stepMs: number;
  minutes: number;
  trainMinutes: number;
  hosts: HostSeries[];
  incidents: Incident[];
}

const INCIDENT_FIELDS: Record<IncidentKind, string[]> = {
  'cpu-runaway': ['cpu.usage_user', 'system.load1'],
  'memory-leak': ['mem.used_percent'],
  'network-flood': ['net.bytes_recv', 'net.bytes_sent'],
  'disk-storm': ['diskio.write_bytes', 'cpu.usage_iowait'],
  'stuck-process': ['cpu.usage_system', 'system.load1'],
};

/** How busy a service is at a given minute of the week: 0.15 at night, up to 1 at the daily peak. */
function demand(minuteOfWeek: number): number {
  const day = Math.floor(minuteOfWeek / 1440);
  const hour = (minuteOfWeek % 1440) / 60;
  const daily = Math.exp(-((hour - 14) ** 2) / (2 * 3.5 ** 2));
  const weekend = day >= 5 ? 0.55 : 1;
  return 0.15 + 0.85 * daily * weekend;
}

export function generateWorkload(
  options: { hosts?: number; days?: number; trainDays?: number; seed?: number } = {},
): Workload {
  const hostCount = options.hosts ?? 6;
  const days = options.days ?? 9;
  // A full week of training: a model that never saw a weekend would call every Saturday anomalous.
  const trainDays = options.trainDays ?? 7;
  const rng = new Random(options.seed ?? 42);
  const minutes = days * 1440;
  const trainMinutes = trainDays * 1440;
  const startMs = Date.UTC(2024, 5, 3); // a Monday
  const hosts: HostSeries[] = [];
  const incidents: Incident[] = [];
  const kinds = Object.keys(INCIDENT_FIELDS) as IncidentKind[];

  for (let h = 0; h < hostCount; h++) {
    const host = h < hostCount - 1 ? `web-${h + 1}` : 'db-1';
    const isDb = host.startsWith('db');
    const capacity = 0.7 + 0.6 * rng.next(); // hosts differ in how loaded they run
    const values = FIELDS.map(() => new Float64Array(minutes));
    const labels = new Uint8Array(minutes);
    let memory = 45 + 10 * rng.next();
    for (let t = 0; t < minutes; t++) {
      const d = demand(t % (7 * 1440)) * capacity * (1 + 0.08 * rng.normal());
      const heavy = (): number => (rng.next() < 0.01 ? 3 * Math.abs(rng.normal()) : 0); // rare harmless blips
      values[0]![t] = Math.max(0, 5 + 55 * d + 2.5 * rng.normal() + 8 * heavy());
      values[1]![t] = Math.max(0, 2 + 8 * d + 0.8 * rng.normal());
      values[2]![t] = Math.max(0, 0.5 + (isDb ? 3 : 1) * d + 0.3 * Math.abs(rng.normal()));
      // Memory follows load slowly (caches fill and drain) with a floor.
      memory += 0.02 * (40 + 35 * d - memory) + 0.3 * rng.normal();
      values[3]![t] = Math.min(99, Math.max(5, memory));
      values[4]![t] = Math.max(0, 2e6 * d * (1 + 0.1 * rng.normal()) + 1e5 * heavy());
      values[5]![t] = Math.max(0, 5e6 * d * (1 + 0.1 * rng.normal()));
      values[6]![t] = Math.max(0, (isDb ? 8e6 : 1e6) * d * (1 + 0.15 * rng.normal()));
      values[7]![t] = Math.max(0, 0.2 + 6 * d + 0.3 * rng.normal());
    }
    hosts.push({ host, values, labels });

    // One or two incidents per host in the detection days, none in training.
    const count = 1 + rng.int(2);
    for (let k = 0; k < count; k++) {
      const kind = kinds[(h + 2 * k) % kinds.length]!;
      const length = 20 + rng.int(40);
      const start = trainMinutes + 60 + rng.int(minutes - trainMinutes - length - 120);
      const end = start + length - 1;
      if (incidents.some((i) => i.host === host && !(end + 30 < i.start || start > i.end + 30))) continue;
      inject(values, kind, start, end, rng);
      labels.fill(1, start, end + 1);
      incidents.push({ host, kind, start, end, fields: INCIDENT_FIELDS[kind] });
    }
  }
  return { startMs, stepMs: 60_000, minutes, trainMinutes, hosts, incidents };
}

function inject(values: Float64Array[], kind: IncidentKind, start: number, end: number, rng: Random): void {
  const col = (name: string): Float64Array => values[FIELDS.indexOf(name as (typeof FIELDS)[number])]!;
  for (let t = start; t <= end; t++) {
    const ramp = Math.min(1, (t - start + 1) / 5); // incidents build up over a few minutes
    switch (kind) {
      case 'cpu-runaway':
        // A process spinning on every core: user cpu pinned near 100 %, the run queue grows.
        col('cpu.usage_user')[t] = Math.min(99, col('cpu.usage_user')[t]! + ramp * (70 + 3 * rng.normal()));
        col('system.load1')[t] = col('system.load1')[t]! + ramp * 14;
        break;
      case 'memory-leak':
        // Memory grows steadily until the OOM killer would step in.
        col('mem.used_percent')[t] = Math.min(
          99.5,
          col('mem.used_percent')[t]! + 45 * ((t - start + 1) / (end - start + 1)),
        );
        break;
      case 'network-flood':
        // A flood of requests the service rejects: far more in than usual, somewhat more out.
        col('net.bytes_recv')[t] = col('net.bytes_recv')[t]! + ramp * 1.5e7 * (1 + 0.2 * rng.normal());
        col('net.bytes_sent')[t] = col('net.bytes_sent')[t]! * (1 + 2 * ramp);
        break;
      case 'disk-storm':
        // A runaway log writer or compaction: the disk saturates and cpu waits on it.
        col('diskio.write_bytes')[t] = col('diskio.write_bytes')[t]! + ramp * 8e7 * (1 + 0.2 * rng.normal());
        col('cpu.usage_iowait')[t] = col('cpu.usage_iowait')[t]! + ramp * 30;
        break;
      case 'stuck-process':
        // Processes stuck in the kernel (a hung NFS mount): system cpu and load climb.
        col('cpu.usage_system')[t] = col('cpu.usage_system')[t]! + ramp * 35;
        col('system.load1')[t] = col('system.load1')[t]! + ramp * 20;
        break;
    }
  }
}
