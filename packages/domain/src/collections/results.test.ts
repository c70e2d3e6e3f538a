import { describe, expect, it } from 'vitest';
import { collectionRate, customerCovered, dunningCoverage, percent, ratio } from './results.ts';

describe('collection results', () => {
  it('covers a customer only when every due message was sent, at least the notice, and a visit when due', () => {
    const sent = { messagesDue: 2, messagesSent: 2 };
    expect(customerCovered({ bills: [sent], cyclesBehind: 1, visited: false }, 2)).toBe(true);
    expect(
      customerCovered(
        { bills: [sent, { messagesDue: 3, messagesSent: 2 }], cyclesBehind: 1, visited: false },
        2,
      ),
    ).toBe(false);
    expect(
      customerCovered({ bills: [{ messagesDue: 0, messagesSent: 0 }], cyclesBehind: 1, visited: false }, 2),
    ).toBe(false);
    expect(customerCovered({ bills: [sent], cyclesBehind: 2, visited: false }, 2)).toBe(false);
    expect(customerCovered({ bills: [sent], cyclesBehind: 2, visited: true }, 2)).toBe(true);
  });

  it('computes the rates, with nothing to measure as null rather than 100%', () => {
    expect(collectionRate(8_000, 10_000)).toBe(0.8);
    expect(collectionRate(12_000, 10_000)).toBe(1);
    expect(collectionRate(0, 0)).toBeNull();
    expect(dunningCoverage(3, 4)).toBe(0.75);
    expect(dunningCoverage(0, 0)).toBeNull();
    expect(ratio(1, 3)).toBeCloseTo(0.3333);
    expect(percent(0.98765)).toBe(98.8);
    expect(percent(null)).toBeNull();
  });
});
