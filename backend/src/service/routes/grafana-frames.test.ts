import { Readable } from 'node:stream';
import type { Frame } from '../schemas/index.js';
import { framesJson } from './grafana.js';

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

async function text(answer: string | Readable): Promise<string> {
  if (typeof answer === 'string') return answer;
  let out = '';
  for await (const piece of answer) out += String(piece);
  return out;
}

describe("the Grafana query's answer text", () => {
  it('is one string for a small answer (one host, a day), the frames exactly as JSON has them', () => {
    const frames = [frame('web-1', 1440)];
    const answer = framesJson(frames);
    expect(typeof answer).toBe('string');
    expect(answer).toBe(JSON.stringify({ frames }));
  });

  it('streams a large answer (50 hosts, a day) in pieces that join to the same JSON', async () => {
    const frames = Array.from({ length: 50 }, (_, h) => frame(`web-${h}`, 1440));
    const answer = framesJson(frames);
    expect(answer).toBeInstanceOf(Readable);
    expect(await text(answer)).toBe(JSON.stringify({ frames }));
  });

  it('answers no frames as an empty list', async () => {
    expect(await text(framesJson([]))).toBe('{"frames":[]}');
  });
});
