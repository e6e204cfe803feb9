import { describe, expect, it } from 'vitest';
import { createLiveSimClock, createSimClock } from './clock';

describe('simulator clocks', () => {
  it('a manual clock moves only when told', () => {
    const clock = createSimClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(500);
    expect(clock.now()).toBe(1_500);
  });

  it('a live clock follows its time source, shifted by advance and set', () => {
    let real = 1_700_000_000_000;
    const clock = createLiveSimClock(() => real);
    expect(clock.now()).toBe(real);
    real += 6 * 60_000;
    expect(clock.now()).toBe(real);
    clock.advance(1_000);
    expect(clock.now()).toBe(real + 1_000);
    real += 10;
    expect(clock.now()).toBe(real + 1_000);
    clock.set(5);
    real += 10;
    expect(clock.now()).toBe(15);
    expect(() => clock.advance(Number.NaN)).toThrow(RangeError);
  });

  it('a live clock follows the system clock by default', () => {
    const clock = createLiveSimClock();
    const before = Date.now();
    const t = clock.now();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });
});
