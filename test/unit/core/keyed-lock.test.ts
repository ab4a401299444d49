import { describe, expect, it } from 'vitest';
import { KeyedLock } from '../../../src/core/keyed-lock.js';

describe('KeyedLock', () => {
  it('runs steps of one key one at a time, in order, through failures; other keys alongside', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const step = (name: string, ms: number, fail = false) => async () => {
      log.push(`${name}+`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`${name}-`);
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([lock.run('a', step('a1', 30, true)), lock.run('a', step('a2', 5)), lock.run('b', step('b1', 10))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(log.indexOf('a2+')).toBeGreaterThan(log.indexOf('a1-'));
    expect(log.indexOf('b1+')).toBeLessThan(log.indexOf('a1-'));
  });
});
