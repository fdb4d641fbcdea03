import { Progress } from './progress.js';

/** A stderr stand-in that records what is written, a terminal or not. */
function stream(isTTY: boolean): NodeJS.WritableStream & { isTTY: boolean; text: string } {
  const s = {
    isTTY,
    text: '',
    write(chunk: string): boolean {
      s.text += chunk;
      return true;
    },
  };
  return s as unknown as NodeJS.WritableStream & { isTTY: boolean; text: string };
}

describe('Progress', () => {
  it('writes nothing when stderr is not a terminal, however long the run takes', () => {
    const out = stream(false);
    let t = 0;
    const p = new Progress(out, 1000, () => t);
    for (let i = 0; i <= 100; i++) {
      t += 10_000;
      p.update('replaying', i, 100);
    }
    p.finish();
    expect(out.text).toBe('');
  });

  it('on a terminal: quiet for the first second, then one line redrawn in place, ended by finish', () => {
    const out = stream(true);
    let t = 0;
    const p = new Progress(out, 1000, () => t);
    p.update('fitting', 1, 4);
    expect(out.text).toBe('');
    t = 1500;
    p.update('fitting', 2, 4);
    t = 1550; // within 100 ms of the last draw: skipped
    p.update('fitting', 3, 4);
    t = 1560; // a stage's end is always drawn
    p.update('fitting', 4, 4);
    p.finish();
    expect(out.text).toBe('\r\x1b[Kfitting: 50% (2/4) 1.5s\r\x1b[Kfitting: 100% (4/4) 1.6s\n');
  });
});
