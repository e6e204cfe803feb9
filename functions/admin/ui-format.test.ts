import { describe, expect, it } from 'vitest';
import { duration, niceScale, relative } from './ui/format';

// The console's words for time and its chart's axis (the pages around them are covered by the
// browser tests).
describe('console formatting', () => {
  it('says a duration in at most two units', () => {
    expect([0, 42, 59, 60, 3_599, 3_600, 3_660, 7_200, 172_800, 180_000].map(duration)).toEqual([
      '0 s',
      '42 s',
      '59 s',
      '1 min',
      '59 min',
      '1 h',
      '1 h 1 min',
      '2 h',
      '2 d',
      '2 d 2 h',
    ]);
    expect(duration(-90)).toBe('1 min');
  });

  it('says a time relative to now, past or future', () => {
    const now = Date.parse('2026-11-30T08:00:00Z');
    expect(relative('2026-11-30T07:55:00Z', now)).toBe('5 min ago');
    expect(relative('2026-11-30T10:00:00Z', now)).toBe('in 2 h');
    expect(relative('2026-11-30T08:00:03Z', now)).toBe('just now');
    expect(relative('not a time', now)).toBe('not a time');
  });

  it('rounds the chart axis up to a whole step that divides it', () => {
    for (const [max, top, step] of [
      [0, 5, 1],
      [5, 5, 1],
      [7, 8, 2],
      [37, 40, 10],
      [61, 80, 20],
      [1234, 1250, 250],
      [11, 15, 5],
      [100, 100, 20],
    ] as const) {
      expect([max, niceScale(max)]).toEqual([max, { top, step }]);
    }
    for (let max = 1; max < 5000; max += 37) {
      const { top, step } = niceScale(max);
      expect(top).toBeGreaterThanOrEqual(max);
      expect(Number.isInteger(top / step) && Number.isInteger(step)).toBe(true);
      expect(top / step).toBeLessThanOrEqual(6);
    }
  });
});
