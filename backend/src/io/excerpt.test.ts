import { excerpt, oneLineMessage, quoted } from './excerpt.js';

describe('excerpt', () => {
  it('keeps short text, flattens line breaks', () => {
    expect(excerpt('cpu')).toBe('cpu');
    expect(excerpt('a\nb\r\nc')).toBe('a\\nb\\nc');
  });

  it('cuts long text and says how much was left out', () => {
    const cell = 'x'.repeat(200_000_000 / 1000);
    const e = excerpt(cell, 10);
    expect(e).toBe('xxxxxxxxxx… (199,990 more characters)');
  });

  it('quoted: JSON quotes, cut the same way', () => {
    expect(quoted('a "b"')).toBe('"a \\"b\\""');
    expect(quoted('y'.repeat(100), 5)).toBe('"yyyyy"… (95 more characters)');
  });

  it('oneLineMessage: one line of at most the limit plus the note', () => {
    const m = oneLineMessage(`bad cell ${'z'.repeat(10_000)}\nat line 2`);
    expect(m).not.toContain('\n');
    expect(m.length).toBeLessThan(560);
  });
});
