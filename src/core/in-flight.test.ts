import { describe, expect, it } from 'vitest';
import { InFlight } from './in-flight';

const never = () => new Promise<string>(() => undefined);

describe('InFlight', () => {
  it('passes a call’s value and rejection through, and forgets it once settled', async () => {
    const calls = new InFlight<Error>();
    expect(await calls.race(async () => 'ok')).toBe('ok');
    await expect(calls.race(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(
      calls.race(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
  });

  it('a loss rejects every call still waiting (one that never settles included), not those that settled or come later', async () => {
    const calls = new InFlight<Error>();
    const done = calls.race(async () => 'done');
    await done;
    const a = calls.race(never);
    const b = calls.race(never);
    const lost = new Error('lost');
    calls.lose(lost);
    await expect(a).rejects.toBe(lost);
    await expect(b).rejects.toBe(lost);
    calls.lose(new Error('again')); // nothing waits any more
    expect(await calls.race(async () => 'after')).toBe('after');
  });
});
