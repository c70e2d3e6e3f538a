import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { customersToRead } from './customersToRead.ts';
import { estimateConsumption, visitForced } from './estimation.ts';
import { checkReading } from './readingCheck.ts';
import { meterCategory, monthlyWorkload, readingDays, rotationStatus } from './workload.ts';
import { isReadingMonth, readingCycleMonths, type ZONES, zoneClassForMeter } from './zones.ts';

describe('zoneForMeter (DOMAIN.md §3: zone 0 ≥ DN40 monthly, A/B below DN40 and resettlement 2-monthly, C/D/E households 3-monthly)', () => {
  it('classifies by caliber, resettlement and household', () => {
    expect(zoneClassForMeter({ caliberDn: 40, household: false, resettlement: false })).toBe('0');
    expect(zoneClassForMeter({ caliberDn: 150, household: true, resettlement: true })).toBe('0');
    expect(zoneClassForMeter({ caliberDn: 25, household: false, resettlement: false })).toBe('AB');
    expect(zoneClassForMeter({ caliberDn: 15, household: true, resettlement: true })).toBe('AB');
    expect(zoneClassForMeter({ caliberDn: 15, household: true, resettlement: false })).toBe('CDE');
    expect(zoneClassForMeter({ caliberDn: null, household: true, resettlement: false })).toBe('CDE');
  });

  it('reads zone 0 monthly, A/B every 2 months, C/D/E every 3, each letter in its own months', () => {
    expect(readingCycleMonths('0')).toBe(1);
    expect(readingCycleMonths('AB')).toBe(2);
    expect(readingCycleMonths('CDE')).toBe(3);
    const months = (zone: (typeof ZONES)[number]) =>
      Array.from({ length: 12 }, (_, i) => i + 1).filter((m) => isReadingMonth(zone, m));
    expect(months('0')).toHaveLength(12);
    expect(months('A')).toEqual([1, 3, 5, 7, 9, 11]);
    expect(months('B')).toEqual([2, 4, 6, 8, 10, 12]);
    expect(months('C')).toEqual([1, 4, 7, 10]);
    expect(months('D')).toEqual([2, 5, 8, 11]);
    expect(months('E')).toEqual([3, 6, 9, 12]);
  });

  it('every month, each meter class is read by exactly one of its zone letters', () => {
    for (let m = 1; m <= 12; m++) {
      expect(['A', 'B'].filter((z) => isReadingMonth(z as 'A', m))).toHaveLength(1);
      expect(['C', 'D', 'E'].filter((z) => isReadingMonth(z as 'C', m))).toHaveLength(1);
    }
  });
});

describe('checkReading (validation as the index is typed)', () => {
  it('computes consumption and passes an ordinary reading', () => {
    expect(checkReading({ previousIndex: '1200', index: '1218', dialDigits: 5, expectedM3: '20' })).toEqual({
      consumptionM3: '18.000',
      flags: [],
      needsReview: false,
    });
  });

  it('flags an index below the last reading that is no rollover', () => {
    const r = checkReading({ previousIndex: '1200', index: '1100', dialDigits: 5, expectedM3: '20' });
    expect(r).toMatchObject({ consumptionM3: null, flags: ['BELOW_PREVIOUS'], needsReview: true });
  });

  it('recognises a rollover of the register and has a person confirm it', () => {
    const r = checkReading({ previousIndex: '99990', index: '12', dialDigits: 5, expectedM3: '20' });
    expect(r).toMatchObject({ consumptionM3: '22.000', flags: ['ROLLOVER'], needsReview: true });
  });

  it('flags consumption far above or below this customer’s history, and zero use', () => {
    expect(
      checkReading({ previousIndex: '100', index: '200', dialDigits: 5, expectedM3: '20' }).flags,
    ).toEqual(['HIGH']);
    expect(
      checkReading({ previousIndex: '100', index: '103', dialDigits: 5, expectedM3: '20' }).flags,
    ).toEqual(['LOW']);
    expect(
      checkReading({ previousIndex: '100', index: '100', dialDigits: 5, expectedM3: '20' }).flags,
    ).toEqual(['ZERO']);
    // Without history, or with tiny expected use, only the index itself is checked.
    expect(
      checkReading({ previousIndex: '100', index: '900', dialDigits: 5, expectedM3: null }).flags,
    ).toEqual([]);
    expect(
      checkReading({ previousIndex: '100', index: '110', dialDigits: 5, expectedM3: '1' }).flags,
    ).toEqual([]);
  });

  it('thresholds are configuration', () => {
    const strict = {
      highFactor: 1.5,
      lowFactor: 0.5,
      minExpectedM3: 0,
      rolloverTopShare: 0.1,
      rolloverBottomShare: 0.1,
    };
    expect(
      checkReading({ previousIndex: '0', index: '35', dialDigits: 5, expectedM3: '20' }, strict).flags,
    ).toEqual(['HIGH']);
  });

  it('property: consumption is never negative and a rollover adds up to the register size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99_999 }), fc.integer({ min: 0, max: 99_999 }), (prev, next) => {
        const r = checkReading({
          previousIndex: String(prev),
          index: String(next),
          dialDigits: 5,
          expectedM3: null,
        });
        if (r.consumptionM3 !== null) {
          expect(Number(r.consumptionM3)).toBeGreaterThanOrEqual(0);
          const expected = next >= prev ? next - prev : 100_000 - prev + next;
          expect(Number(r.consumptionM3)).toBe(expected);
        } else {
          expect(next).toBeLessThan(prev);
        }
      }),
    );
  });
});

describe('estimateConsumption (估表)', () => {
  const history = [
    { periodEnd: '2025-10-15', days: 92, consumptionM3: '46', estimated: false },
    { periodEnd: '2026-01-15', days: 92, consumptionM3: '30', estimated: false },
    { periodEnd: '2026-04-15', days: 90, consumptionM3: '27', estimated: false },
    { periodEnd: '2026-07-15', days: 91, consumptionM3: '60', estimated: true },
  ];

  it('uses the same period last year when there is one', () => {
    expect(estimateConsumption(history, '2026-10-15', 92)).toEqual({
      consumptionM3: '46.000',
      basis: 'same_period_last_year',
    });
  });

  it('otherwise averages recent actual readings (never earlier estimates)', () => {
    // 46 + 30 + 27 = 103 m³ over 274 days, times 90 days = 33.8 → 34 m³
    expect(estimateConsumption(history, '2027-03-01', 90)).toEqual({
      consumptionM3: '34.000',
      basis: 'recent_average',
    });
  });

  it('without history estimates nothing', () => {
    expect(estimateConsumption([], '2026-10-15', 92)).toEqual({
      consumptionM3: '0.000',
      basis: 'no_history',
    });
  });

  it('forces a visit after the configured number of consecutive estimates', () => {
    expect(visitForced(1, 2)).toBe(false);
    expect(visitForced(2, 2)).toBe(true);
  });
});

describe('workload and rotation (DOMAIN.md §3)', () => {
  it('counts reading days from the daily minimums of each kind of meter', () => {
    expect(meterCategory({ zoneClass: 'CDE', mounting: 'wall', resettlement: false })).toBe('cde_wall');
    expect(meterCategory({ zoneClass: 'CDE', mounting: 'buried', resettlement: false })).toBe('cde_buried');
    expect(meterCategory({ zoneClass: 'AB', mounting: 'wall', resettlement: true })).toBe('ab_resettlement');
    expect(meterCategory({ zoneClass: 'AB', mounting: 'wall', resettlement: false })).toBe('ab_dispersed');
    expect(meterCategory({ zoneClass: '0', mounting: 'well', resettlement: false })).toBe('zone0');
    // 1,500 wall (10 days) + 300 buried (3) + 60 large (2) = 15 days
    expect(readingDays({ cde_wall: 1500, cde_buried: 300, zone0: 60 })).toBe(15);
    expect(readingDays({ cde_wall: 151 })).toBe(2);
  });

  it('flags more than 16 working days in concentrated areas, 18 in dispersed ones', () => {
    expect(monthlyWorkload(16, 'concentrated').over).toBe(false);
    expect(monthlyWorkload(17, 'concentrated').over).toBe(true);
    expect(monthlyWorkload(18, 'dispersed').over).toBe(false);
    expect(monthlyWorkload(19, 'dispersed')).toEqual({ days: 19, limit: 18, over: true });
  });

  it('warns two months before a reader reaches two years on an area', () => {
    expect(rotationStatus('2024-12-31', '2026-10-30')).toEqual({
      dueOn: '2026-12-31',
      warnFrom: '2026-10-31',
      status: 'ok',
    });
    expect(rotationStatus('2024-12-31', '2026-10-31').status).toBe('warn');
    expect(rotationStatus('2024-12-31', '2026-12-31').status).toBe('over');
    expect(rotationStatus('2024-02-29', '2025-01-01').dueOn).toBe('2026-02-28');
  });
});

describe('customersToRead (应抄表客户)', () => {
  it('connected − vacant − demolished − suspended − sealed − connected this month', () => {
    const all = [
      { id: 1, state: 'active', connectedOn: '2020-01-01' },
      { id: 2, state: 'vacant', connectedOn: '2020-01-01' },
      { id: 3, state: 'demolished', connectedOn: '2020-01-01' },
      { id: 4, state: 'suspended', connectedOn: '2020-01-01' },
      { id: 5, state: 'sealed', connectedOn: '2020-01-01' },
      { id: 6, state: 'active', connectedOn: '2026-11-05' },
      { id: 7, state: 'pending', connectedOn: null },
      { id: 8, state: 'closed', connectedOn: '2019-01-01' },
      { id: 9, state: 'active', connectedOn: '2026-10-31' },
    ] as const;
    expect(customersToRead([...all], '2026-11').map((c) => c.id)).toEqual([1, 9]);
  });
});
