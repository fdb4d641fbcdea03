import { TtlCache } from './read-cache.js';

describe('TtlCache (what a read request looks up, kept a few seconds)', () => {
  let clock = 0;
  const now = (): number => clock;

  it('answers from the cache until the TTL passes, then loads again', async () => {
    const cache = new TtlCache<string, number>(1000, now);
    let loads = 0;
    const load = async (): Promise<number> => ++loads;
    clock = 0;
    expect(await cache.get('a', load)).toBe(1);
    clock = 999;
    expect(await cache.get('a', load)).toBe(1);
    clock = 1000;
    expect(await cache.get('a', load)).toBe(2);
    expect(loads).toBe(2);
  });

  it('shares one load between requests that miss at once', async () => {
    const cache = new TtlCache<string, string>(1000, now);
    let loads = 0;
    let release!: (v: string) => void;
    const load = (): Promise<string> => {
      loads++;
      return new Promise((r) => (release = r));
    };
    const both = Promise.all([cache.get('k', load), cache.get('k', load)]);
    release('v');
    expect(await both).toEqual(['v', 'v']);
    expect(loads).toBe(1);
  });

  it('keeps neither a failed load nor a value it is told not to keep (an unknown token)', async () => {
    const cache = new TtlCache<string, string | undefined>(1000, now, (v) => v !== undefined);
    await expect(cache.get('x', () => Promise.reject(new Error('registry down')))).rejects.toThrow(
      'registry down',
    );
    expect(await cache.get('x', async () => 'found')).toBe('found');
    expect(await cache.get('y', async () => undefined)).toBeUndefined();
    await Promise.resolve();
    expect(await cache.get('y', async () => 'created since')).toBe('created since');
  });

  it('forgets an entry on delete (a change this process made), and drops the oldest beyond its size', async () => {
    const cache = new TtlCache<string, string>(60_000, now, () => true, 2);
    await cache.get('a', async () => 'old spec');
    cache.delete('a');
    expect(await cache.get('a', async () => 'new spec')).toBe('new spec');
    await cache.get('b', async () => 'b');
    await cache.get('c', async () => 'c');
    expect(cache.size).toBe(2);
    expect(await cache.get('a', async () => 'loaded again')).toBe('loaded again');
  });

  it('with a TTL of 0 keeps nothing', async () => {
    const cache = new TtlCache<string, number>(0, now);
    let loads = 0;
    await cache.get('a', async () => ++loads);
    await cache.get('a', async () => ++loads);
    expect(loads).toBe(2);
  });
});
