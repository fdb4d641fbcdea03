import { toLine } from '../io/influx/index.js';
import { FIELDS, type Workload } from './workload.js';

/**
 * The workload as Telegraf would have written it: measurements cpu, mem, net, diskio and system
 * with Telegraf's field names and a `host` tag. Network and disk counters are cumulative, as
 * Telegraf reports them (the presets read their increase per interval with `spread`).
 */
/** The Telegraf fields each workload metric drives (an incident that moves one moves these). */
export const TELEGRAF_FIELDS: Record<(typeof FIELDS)[number], string[]> = {
  'cpu.usage_user': ['cpu.usage_user', 'cpu.usage_idle'],
  'cpu.usage_system': ['cpu.usage_system', 'cpu.usage_idle'],
  'cpu.usage_iowait': ['cpu.usage_iowait', 'cpu.usage_idle', 'diskio.io_time'],
  'mem.used_percent': ['mem.used_percent', 'mem.available_percent', 'mem.cached'],
  'net.bytes_recv': ['net.bytes_recv', 'net.packets_recv'],
  'net.bytes_sent': ['net.bytes_sent', 'net.packets_sent'],
  'diskio.write_bytes': ['diskio.write_bytes', 'diskio.writes', 'diskio.read_bytes', 'diskio.reads'],
  'system.load1': ['system.load1', 'system.load5'],
};

export function* telegrafLines(w: Workload): Generator<string[]> {
  const col = (name: (typeof FIELDS)[number]): number => FIELDS.indexOf(name);
  for (const h of w.hosts) {
    const v = (name: (typeof FIELDS)[number], t: number): number => h.values[col(name)]![t]!;
    let bytesRecv = 1e9;
    let bytesSent = 2e9;
    let written = 5e9;
    let read = 3e9;
    let writes = 1e6;
    let ioTime = 1e6;
    let lines: string[] = [];
    for (let t = 0; t < w.minutes; t++) {
      const time = w.startMs + t * w.stepMs;
      const tags = { host: h.host };
      const user = v('cpu.usage_user', t);
      const system = v('cpu.usage_system', t);
      const iowait = v('cpu.usage_iowait', t);
      lines.push(
        toLine({
          measurement: 'cpu',
          tags: { ...tags, cpu: 'cpu-total' },
          fields: {
            usage_user: user,
            usage_system: system,
            usage_iowait: iowait,
            usage_idle: Math.max(0, 100 - user - system - iowait),
          },
          timeMs: time,
        }),
      );
      const used = v('mem.used_percent', t);
      lines.push(
        toLine({
          measurement: 'mem',
          tags,
          fields: {
            used_percent: used,
            available_percent: 100 - used,
            cached: 4e9 * (1 - used / 150),
            buffered: 2e8,
          },
          timeMs: time,
        }),
      );
      bytesRecv += v('net.bytes_recv', t);
      bytesSent += v('net.bytes_sent', t);
      lines.push(
        toLine({
          measurement: 'net',
          tags: { ...tags, interface: 'eth0' },
          fields: {
            bytes_recv: Math.round(bytesRecv),
            bytes_sent: Math.round(bytesSent),
            packets_recv: Math.round(bytesRecv / 900),
            packets_sent: Math.round(bytesSent / 1200),
            err_in: 0,
            err_out: 0,
            drop_in: 0,
            drop_out: 0,
          },
          timeMs: time,
        }),
      );
      written += v('diskio.write_bytes', t);
      read += 0.2 * v('diskio.write_bytes', t);
      writes += v('diskio.write_bytes', t) / 65536;
      ioTime += 10 * iowait;
      lines.push(
        toLine({
          measurement: 'diskio',
          tags: { ...tags, name: 'sda' },
          fields: {
            read_bytes: Math.round(read),
            write_bytes: Math.round(written),
            reads: Math.round(read / 65536),
            writes: Math.round(writes),
            io_time: Math.round(ioTime),
          },
          timeMs: time,
        }),
      );
      lines.push(
        toLine({
          measurement: 'system',
          tags,
          fields: { load1: v('system.load1', t), load5: v('system.load1', t), n_cpus: 8 },
          timeMs: time,
        }),
      );
      if (lines.length >= 20_000) {
        yield lines;
        lines = [];
      }
    }
    if (lines.length > 0) yield lines;
  }
}
