import { describe, expect, it } from 'vitest';
import { combineHistories, highestSince, loadRecurred } from '../../../src/controllers/scaler/stabilization.js';

/** One recommendation a second from second 0 to `seconds`, value f(second). */
const history = (seconds: number, f: (s: number) => number) => Array.from({ length: seconds + 1 }, (_, s) => ({ t: s * 1000, v: f(s) }));

describe('stabilization', () => {
  it('combines metrics per second, keeping the larger ask', () => {
    expect(combineHistories([[{ t: 1000, v: 2 }, { t: 2500, v: 1 }], [{ t: 1200, v: 3 }, { t: 2000, v: 5 }]])).toEqual([{ t: 1000, v: 3 }, { t: 2000, v: 5 }]);
  });

  it('highestSince: the maximum over the window, and always the newest ask', () => {
    const h = history(100, (s) => (s < 50 ? 6 : 2));
    expect(highestSince(h, 100_000, 60_000)).toBe(6);
    expect(highestSince(h, 100_000, 40_000)).toBe(2);
    expect(highestSince(h, 100_000, 0)).toBe(2);
    expect(highestSince([], 100_000, 60_000)).toBeNull();
  });

  it('load that only rises or only falls does not recur', () => {
    expect(loadRecurred(history(900, (s) => 1 + Math.floor(s / 60)), 900_000, 60_000, 1_200_000)).toBeNull();
    expect(loadRecurred(history(900, (s) => 16 - Math.floor(s / 60)), 900_000, 60_000, 1_200_000)).toBeNull();
  });

  it('noise around one level does not recur', () => {
    expect(loadRecurred(history(900, (s) => 8 + ((s * 7919) % 3 === 0 ? 1 : 0)), 900_000, 60_000, 1_200_000)).toBeNull();
  });

  it('a dip longer than the short window that came back recurs, with the dip\'s length', () => {
    const r = loadRecurred(history(600, (s) => (s >= 200 && s < 320 ? 1 : 6)), 600_000, 60_000, 1_200_000);
    expect(r?.longestDipMs).toBeGreaterThanOrEqual(120_000); // one sample's resolution
    expect(r?.longestDipMs).toBeLessThanOrEqual(121_000);
  });

  it('a dip shorter than the short window is not one (the short window already holds through it)', () => {
    expect(loadRecurred(history(600, (s) => (s % 90 < 60 ? 6 : 1)), 600_000, 60_000, 1_200_000)).toBeNull();
  });

  it('forgets dips older than its memory', () => {
    expect(loadRecurred(history(2000, (s) => (s >= 200 && s < 320 ? 1 : 6)), 2_000_000, 60_000, 1_200_000)).toBeNull();
  });
});
