import { Readable } from 'node:stream';
import { JsonColumn } from '../../io/influx/index.js';
import type { Frame } from '../schemas/index.js';
import { framesJson, type OutFrame } from './grafana.js';

/** A score frame of `points` minutes for one entity, as resultFrames builds it. */
function frame(entity: string, points: number): Frame {
  const labels = { detector: 'cpu', entity, model_version: '1' };
  return {
    refId: 'A',
    name: `cpu ${entity}`,
    fields: [
      {
        name: 'time',
        type: 'time',
        values: Array.from({ length: points }, (_, i) => 1_700_000_000_000 + i * 60_000),
      },
      {
        name: 'score',
        type: 'number',
        values: Array.from({ length: points }, (_, i) => (i % 97) / 97),
        labels,
      },
      {
        name: 'anomaly',
        type: 'boolean',
        values: Array.from({ length: points }, (_, i) => i % 97 > 90),
        labels,
      },
      {
        name: 'severity',
        type: 'string',
        values: Array.from({ length: points }, (_, i) => (i % 97 > 90 ? 'high' : 'none')),
        labels,
      },
      {
        name: 'threshold',
        type: 'number',
        values: Array.from({ length: points }, (_, i) => (i % 5 === 0 ? null : 0.5)),
        labels,
      },
    ],
  };
}

async function text(answer: Buffer | Readable): Promise<string> {
  if (Buffer.isBuffer(answer)) return answer.toString('utf8');
  let out = '';
  for await (const piece of answer) out += String(piece);
  return out;
}

/** The frame with each field's values as a JsonColumn, as resultFrames gives them. */
function asColumns(f: Frame): OutFrame {
  return {
    ...f,
    fields: f.fields.map((field) => {
      const column = new JsonColumn();
      for (const v of field.values) {
        const bytes = Buffer.from(JSON.stringify(v));
        column.add(bytes, 0, bytes.length);
      }
      return { ...field, values: column };
    }),
  };
}

describe("the Grafana query's answer text", () => {
  it('is one piece for a small answer (one host, a day), the frames exactly as JSON has them', () => {
    const frames = [frame('web-1', 1440)];
    const answer = framesJson(frames);
    expect(Buffer.isBuffer(answer)).toBe(true);
    expect(answer.toString()).toBe(JSON.stringify({ frames }));
  });

  it('copies JSON columns (read from InfluxDB) in as their text: the same frames', async () => {
    const frames = [frame('wéb-1 "quoted"', 30), frame('', 0)];
    const answer = await text(framesJson(frames.map(asColumns)));
    expect(JSON.parse(answer)).toEqual({ frames });
    // Only the key order differs: values come last in a field.
    expect(answer).toContain('{"name":"time","type":"time","values":[1700000000000,1700000060000,');
  });

  it('streams a large answer (50 hosts, a day) in pieces that join to the same JSON', async () => {
    const frames = Array.from({ length: 50 }, (_, h) => frame(`web-${h}`, 1440));
    const answer = framesJson(frames);
    expect(answer).toBeInstanceOf(Readable);
    expect(await text(answer)).toBe(JSON.stringify({ frames }));
    const columns = framesJson(frames.map(asColumns));
    expect(columns).toBeInstanceOf(Readable);
    expect(JSON.parse(await text(columns))).toEqual({ frames });
  });

  it('answers no frames as an empty list', async () => {
    expect(await text(framesJson([]))).toBe('{"frames":[]}');
  });
});
