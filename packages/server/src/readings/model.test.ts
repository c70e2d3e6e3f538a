import { CUSTOMER_STATES, DEFAULT_SETTINGS, isReadingMonth, isToRead, ZONES } from '@meterline/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addMonths,
  connectedBefore,
  decideReading,
  fromMilli,
  type MeterHistory,
  meterStateAt,
  parseReadAt,
  readerOnDay,
  readingMonthDay,
  readingRules,
  registerAfter,
  STATES_TO_READ,
  showIndex,
  toMilli,
  zonesReadIn,
} from './model.ts';

const rules = readingRules({ ...DEFAULT_SETTINGS } as never);
const anomalies = new Map([
  [
    'no_access',
    {
      code: 'no_access',
      nameZh: '',
      nameEn: '',
      department: 'office',
      preventsReading: true,
      meterFault: false,
    },
  ],
  [
    'leak',
    { code: 'leak', nameZh: '', nameEn: '', department: 'repair', preventsReading: false, meterFault: false },
  ],
]);

describe('the SQL form of customersToRead (应抄表客户) is the domain rule', () => {
  it('state = any(STATES_TO_READ) and connected_on < connectedBefore(month) ⇔ isToRead', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CUSTOMER_STATES),
        fc.option(fc.date({ min: new Date('2000-01-01'), max: new Date('2030-12-31'), noInvalidDate: true })),
        fc.integer({ min: 2001, max: 2030 }),
        fc.integer({ min: 1, max: 12 }),
        (state, connected, year, m) => {
          const month = `${year}-${String(m).padStart(2, '0')}`;
          const connectedOn = connected ? connected.toISOString().slice(0, 10) : null;
          const sqlForm =
            STATES_TO_READ.includes(state) && connectedOn !== null && connectedOn < connectedBefore(month);
          expect(sqlForm).toBe(isToRead({ state, connectedOn }, month));
        },
      ),
    );
  });

  it('zonesReadIn is isReadingMonth', () => {
    for (let m = 1; m <= 12; m++) {
      const month = `2026-${String(m).padStart(2, '0')}`;
      expect(zonesReadIn(month)).toEqual(ZONES.filter((z) => isReadingMonth(z, m)));
    }
  });
});

describe('registers and indexes', () => {
  it('an estimate moves the register by its volume, wrapping at the dial', () => {
    expect(
      registerAfter({ kind: 'actual', indexValue: '120.5', previousIndex: '100', consumptionM3: '20.5' }, 5),
    ).toBe('120.500');
    expect(
      registerAfter({ kind: 'estimated', indexValue: null, previousIndex: '100', consumptionM3: '18' }, 5),
    ).toBe('118.000');
    expect(
      registerAfter({ kind: 'estimated', indexValue: null, previousIndex: '99990', consumptionM3: '25' }, 5),
    ).toBe('15.000');
  });

  it('thousandths are exact', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999_999 }), (milli) => {
        expect(toMilli(fromMilli(BigInt(milli)))).toBe(BigInt(milli));
      }),
    );
    expect(showIndex('1234.000')).toBe('1234');
    expect(showIndex('12.500')).toBe('12.5');
    expect(addMonths('2026-01', -1)).toBe('2025-12');
  });
});

describe('decideReading', () => {
  const day = (d: string) => new Date(`${d}T02:00:00Z`);
  const history = (kinds: ('actual' | 'estimated')[]): MeterHistory => {
    // Readings every 30 days of 15 m³ up to 2026-10-01, newest first.
    const readings = kinds.map((kind, i) => {
      const readAt = new Date(day('2026-10-01').getTime() - i * 30 * 86_400_000);
      const index = 1000 - i * 15;
      return {
        readingId: 100 - i,
        readAt,
        kind,
        indexValue: kind === 'actual' ? String(index) : null,
        previousIndex: String(index - 15),
        consumptionM3: '15',
        previousReadAt: new Date(readAt.getTime() - 30 * 86_400_000),
      };
    });
    let inARow = 0;
    while (inARow < kinds.length && kinds[inARow] === 'estimated') inARow++;
    return { dialDigits: 5, initialIndex: '0', readings, estimatesInARow: inARow };
  };

  it('accepts an ordinary index, flags a high one for review, keeps a low index with BELOW_PREVIOUS', () => {
    const h = history(['actual', 'actual', 'actual', 'actual']);
    expect(meterStateAt(h, day('2026-10-31'), rules)).toMatchObject({ previousIndex: '1000.000' });
    expect(
      decideReading({ index: '1015', readAt: day('2026-10-31'), anomalyCodes: [] }, h, anomalies, rules),
    ).toMatchObject({
      ok: true,
      status: 'accepted',
      consumptionM3: '15.000',
      flags: [],
    });
    expect(
      decideReading({ index: '1200', readAt: day('2026-10-31'), anomalyCodes: [] }, h, anomalies, rules),
    ).toMatchObject({
      status: 'review',
      flags: ['HIGH'],
    });
    expect(
      decideReading({ index: '990', readAt: day('2026-10-31'), anomalyCodes: [] }, h, anomalies, rules),
    ).toMatchObject({
      status: 'review',
      flags: ['BELOW_PREVIOUS'],
      consumptionM3: null,
      indexValue: '990.000',
    });
  });

  it('no index: an estimate when an anomaly prevents reading, unless estimates in a row force a visit', () => {
    const noAccess = { index: null, readAt: day('2026-10-31'), anomalyCodes: ['no_access'] };
    expect(decideReading(noAccess, history(['actual', 'actual', 'actual']), anomalies, rules)).toMatchObject({
      status: 'accepted',
      kind: 'estimated',
      consumptionM3: '15.000',
    });
    expect(
      decideReading(noAccess, history(['estimated', 'estimated', 'actual']), anomalies, rules),
    ).toMatchObject({
      status: 'review',
      kind: 'estimated',
      flags: ['VISIT_FORCED'],
    });
    expect(
      decideReading({ ...noAccess, anomalyCodes: ['leak'] }, history(['actual']), anomalies, rules),
    ).toMatchObject({ ok: false, code: 'INDEX_REQUIRED' });
    expect(
      decideReading(
        { index: '100000', readAt: day('2026-10-31'), anomalyCodes: [] },
        history(['actual']),
        anomalies,
        rules,
      ),
    ).toMatchObject({ ok: false, code: 'INDEX_TOO_LARGE' });
  });

  it('reads a time without an offset as China time', () => {
    expect(parseReadAt('2026-03-01 08:30')?.toISOString()).toBe('2026-03-01T00:30:00.000Z');
    expect(parseReadAt('2026-03-01T08:30:00Z')?.toISOString()).toBe('2026-03-01T08:30:00.000Z');
    expect(parseReadAt('2026-02-30 08:30')).toBeNull();
    expect(parseReadAt('yesterday')).toBeNull();
  });
});

describe('who held a book on a day (book_assignment)', () => {
  // Reader 1 until 2026-03-10, reader 2 from then until 2026-09-01, then nobody; reader 1 had handed
  // it to a recorded first assignment, reader 9 held it before anything was recorded.
  const tenures = [
    { readerId: 2, fromDate: '2026-03-10', toDate: '2026-09-01', handedOverBy: 1 },
    { readerId: 1, fromDate: '2025-01-01', toDate: '2026-03-10', handedOverBy: 9 },
  ];

  it('is the assignment in force, its first day included and its end day not', () => {
    expect(readerOnDay(tenures, 7, '2026-03-09')).toBe(1);
    expect(readerOnDay(tenures, 7, '2026-03-10')).toBe(2);
    expect(readerOnDay(tenures, 7, '2026-08-31')).toBe(2);
    expect(readerOnDay(tenures, 7, '2026-09-01')).toBeNull();
  });

  it('before the first recorded assignment: who handed the book over to it', () => {
    expect(readerOnDay(tenures, 7, '2024-12-31')).toBe(9);
    expect(
      readerOnDay([{ readerId: 2, fromDate: '2026-12-01', toDate: null, handedOverBy: 1 }], 2, '2026-11-24'),
    ).toBe(1);
  });

  it('a book with no recorded assignment is its present reader’s', () => {
    expect(readerOnDay([], 7, '2026-11-24')).toBe(7);
    expect(readerOnDay([], null, '2026-11-24')).toBeNull();
  });

  it('a month counts on its planned reading day, else its last day, and today in the month under way', () => {
    expect(readingMonthDay('2026-10', '2026-10-12', '2026-11-24')).toBe('2026-10-12');
    expect(readingMonthDay('2026-10', undefined, '2026-11-24')).toBe('2026-10-31');
    expect(readingMonthDay('2026-02', undefined, '2026-11-24')).toBe('2026-02-28');
    expect(readingMonthDay('2028-02', undefined, '2028-03-01')).toBe('2028-02-29');
    expect(readingMonthDay('2026-11', undefined, '2026-11-24')).toBe('2026-11-24');
    expect(readingMonthDay('2026-11', '2026-11-27', '2026-11-24')).toBe('2026-11-27');
  });
});
