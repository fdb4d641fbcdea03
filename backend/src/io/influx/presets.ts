import type { SourceSpec } from './reader.js';

/**
 * Telegraf's standard measurements as detector sources: a detector for "all my hosts" needs a name
 * and one of these. Field names are Telegraf's (inputs.cpu, mem, net, disk, diskio, system, docker).
 * Counters (bytes, packets, operations) are read as their increase per interval.
 */
export const TELEGRAF_PRESETS: Record<string, Omit<SourceSpec, 'intervalSeconds'>> = {
  cpu: {
    measurement: 'cpu',
    entityTag: 'host',
    tags: { cpu: 'cpu-total' },
    fields: ['usage_user', 'usage_system', 'usage_iowait', 'usage_idle'].map((field) => ({
      field,
      aggregate: 'mean' as const,
    })),
  },
  mem: {
    measurement: 'mem',
    entityTag: 'host',
    fields: ['used_percent', 'available_percent', 'cached', 'buffered'].map((field) => ({
      field,
      aggregate: 'mean' as const,
    })),
  },
  net: {
    measurement: 'net',
    entityTag: 'host',
    fields: [
      'bytes_recv',
      'bytes_sent',
      'packets_recv',
      'packets_sent',
      'err_in',
      'err_out',
      'drop_in',
      'drop_out',
    ].map((field) => ({ field, aggregate: 'increase' as const })),
  },
  disk: {
    measurement: 'disk',
    entityTag: 'host',
    tags: { path: '/' },
    fields: ['used_percent', 'inodes_used'].map((field) => ({ field, aggregate: 'mean' as const })),
  },
  diskio: {
    measurement: 'diskio',
    entityTag: 'host',
    fields: ['read_bytes', 'write_bytes', 'reads', 'writes', 'io_time'].map((field) => ({
      field,
      aggregate: 'increase' as const,
    })),
  },
  system: {
    measurement: 'system',
    entityTag: 'host',
    fields: ['load1', 'load5', 'n_cpus'].map((field) => ({ field, aggregate: 'mean' as const })),
  },
  docker_container_cpu: {
    measurement: 'docker_container_cpu',
    entityTag: 'container_name',
    tags: { cpu: 'cpu-total' },
    fields: [{ field: 'usage_percent', aggregate: 'mean' as const }],
  },
  docker_container_mem: {
    measurement: 'docker_container_mem',
    entityTag: 'container_name',
    fields: ['usage_percent', 'usage'].map((field) => ({ field, aggregate: 'mean' as const })),
  },
};

/** The measurement Isoscope writes its results to. */
export const RESULTS_MEASUREMENT = 'isoscope_anomaly';
