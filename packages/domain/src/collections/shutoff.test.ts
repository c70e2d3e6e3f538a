import { describe, expect, it } from 'vitest';
import { WorkingCalendar } from '../calendar/workingDays.ts';
import { DEFAULT_SETTINGS } from '../platform/settings.ts';
import { countableArrears, type OverdueBill } from './escalation.ts';
import {
  gasNoticeDue,
  isRestoreLate,
  isShutoffEligible,
  recheckDueOn,
  restoreDeadline,
  type ShutoffCase,
  shutoffArrearsCleared,
} from './shutoff.ts';

const s = DEFAULT_SETTINGS;
const today = '2026-11-20';
const bill = (billId: number, dueOn: string, outstandingFen: number, heldFen = 0): OverdueBill => ({
  billId,
  period: dueOn.slice(0, 7),
  dueOn,
  outstandingFen,
  heldFen,
});
const base = (over: Partial<ShutoffCase> & { bills?: OverdueBill[] }): ShutoffCase => ({
  today,
  utility: 'water',
  customerKind: 'person',
  customerState: 'active',
  arrears: countableArrears(over.bills ?? [], over.today ?? today),
  gasNoticePostedOn: null,
  ladderDone: true,
  openShutoff: false,
  ...over,
});

describe('isShutoffEligible — water ("individuals in arrears for two months or more, organisations for one month or more")', () => {
  const oneMonth = [bill(1, '2026-10-15', 8_000)];
  const twoMonths = [bill(1, '2026-09-20', 8_000)];

  it('an individual one month behind is not eligible; two months is', () => {
    expect(isShutoffEligible(base({ bills: oneMonth }), s)).toMatchObject({
      eligible: false,
      reason: 'TOO_FEW_MONTHS',
      monthsNeeded: 2,
    });
    expect(isShutoffEligible(base({ bills: twoMonths }), s)).toMatchObject({ eligible: true });
  });
  it('an organisation is eligible after one month', () => {
    expect(isShutoffEligible(base({ customerKind: 'organisation', bills: oneMonth }), s)).toMatchObject({
      eligible: true,
      monthsNeeded: 1,
    });
  });
  it('the months are settings', () => {
    const stricter = { ...s, 'shutoff.water.organisationMonths': 3 };
    expect(
      isShutoffEligible(base({ customerKind: 'organisation', bills: twoMonths }), stricter),
    ).toMatchObject({
      eligible: false,
      reason: 'TOO_FEW_MONTHS',
      monthsNeeded: 3,
    });
  });
  it('held amounts (disputes, installments) do not count', () => {
    const held = [bill(1, '2026-08-01', 8_000, 8_000), bill(2, '2026-10-15', 5_000)];
    expect(isShutoffEligible(base({ bills: held }), s)).toMatchObject({
      eligible: false,
      reason: 'TOO_FEW_MONTHS',
    });
    const allHeld = [bill(1, '2026-08-01', 8_000, 8_000)];
    expect(isShutoffEligible(base({ bills: allHeld }), s)).toMatchObject({
      eligible: false,
      reason: 'NOT_IN_ARREARS',
    });
  });
  it('water follows the ladder when configured', () => {
    expect(isShutoffEligible(base({ bills: twoMonths, ladderDone: false }), s)).toMatchObject({
      eligible: false,
      reason: 'LADDER_INCOMPLETE',
    });
    expect(
      isShutoffEligible(base({ bills: twoMonths, ladderDone: false }), { ...s, 'shutoff.requireLadder': 0 }),
    ).toMatchObject({ eligible: true });
  });
  it('only an active customer without an open shut-off', () => {
    expect(isShutoffEligible(base({ bills: twoMonths, customerState: 'sealed' }), s)).toMatchObject({
      reason: 'NOT_ACTIVE',
    });
    expect(isShutoffEligible(base({ bills: twoMonths, openShutoff: true }), s)).toMatchObject({
      reason: 'ALREADY_REQUESTED',
    });
  });
});

describe('isShutoffEligible — gas ("the notice is posted … for one month\'s arrears, shut-off no earlier than 3 days after")', () => {
  const gas = (over: Partial<ShutoffCase>) =>
    base({ utility: 'gas', ladderDone: false, bills: [bill(1, '2026-10-15', 6_000)], ...over });
  it('needs the posted notice', () => {
    expect(isShutoffEligible(gas({}), s)).toMatchObject({ eligible: false, reason: 'GAS_NOTICE_NOT_POSTED' });
  });
  it('no earlier than 3 days after the notice', () => {
    expect(isShutoffEligible(gas({ gasNoticePostedOn: '2026-11-18' }), s)).toEqual({
      eligible: false,
      reason: 'GAS_NOTICE_TOO_RECENT',
      monthsNeeded: 1,
      earliestOn: '2026-11-21',
    });
    expect(isShutoffEligible(gas({ gasNoticePostedOn: '2026-11-17' }), s)).toMatchObject({
      eligible: true,
      earliestOn: '2026-11-20',
    });
  });
  it("gasNoticeDue: once a month for one month's arrears", () => {
    const arrears = countableArrears([bill(1, '2026-10-15', 6_000)], today);
    expect(gasNoticeDue(today, arrears, null, s)).toBe(true);
    expect(gasNoticeDue(today, arrears, '2026-11-02', s)).toBe(false);
    expect(gasNoticeDue(today, arrears, '2026-10-02', s)).toBe(true);
    expect(gasNoticeDue(today, countableArrears([bill(1, '2026-11-10', 6_000)], today), null, s)).toBe(false);
  });
});

describe('restoreDeadline ("supply is back within 24 hours (a removed meter within 2 working days)")', () => {
  // National Day 2026: 1–7 October off, Saturday 10 October an adjusted working day.
  const calendar = new WorkingCalendar([
    ...['01', '02', '03', '04', '05', '06', '07'].map((d) => ({
      date: `2026-10-${d}`,
      kind: 'holiday' as const,
    })),
    { date: '2026-10-10', kind: 'adjusted_workday' as const },
  ]);
  it('24 hours after the payment', () => {
    const paid = new Date('2026-11-20T03:15:00Z');
    expect(restoreDeadline(paid, false, calendar, s).toISOString()).toBe('2026-11-21T03:15:00.000Z');
  });
  it('a removed meter: the end of the 2nd working day after the payment day (China time)', () => {
    // Paid Friday 2026-11-20 11:15 China → Tuesday 2026-11-24 24:00 China.
    expect(restoreDeadline(new Date('2026-11-20T03:15:00Z'), true, calendar, s).toISOString()).toBe(
      '2026-11-24T16:00:00.000Z',
    );
  });
  it('across a holiday: paid on 30 September → 9 October (the holiday week is not counted)', () => {
    expect(restoreDeadline(new Date('2026-09-30T02:00:00Z'), true, calendar, s).toISOString()).toBe(
      '2026-10-09T16:00:00.000Z',
    );
    // Paid during the holiday (3 October): day 0 is the 8th, so the 10th (adjusted working day).
    expect(restoreDeadline(new Date('2026-10-03T02:00:00Z'), true, calendar, s).toISOString()).toBe(
      '2026-10-10T16:00:00.000Z',
    );
  });
  it('a China-evening payment counts on its China day', () => {
    // 2026-11-19T17:00Z is 2026-11-20 01:00 in China: a Friday, not Thursday.
    expect(restoreDeadline(new Date('2026-11-19T17:00:00Z'), true, calendar, s).toISOString()).toBe(
      '2026-11-24T16:00:00.000Z',
    );
  });
  it('isRestoreLate: done after the deadline, or still open past it', () => {
    const due = new Date('2026-11-21T03:15:00Z');
    expect(isRestoreLate(due, new Date('2026-11-21T03:00:00Z'), new Date('2026-12-01T00:00:00Z'))).toBe(
      false,
    );
    expect(isRestoreLate(due, new Date('2026-11-21T04:00:00Z'), new Date('2026-11-21T04:00:00Z'))).toBe(true);
    expect(isRestoreLate(due, null, new Date('2026-11-21T03:00:00Z'))).toBe(false);
    expect(isRestoreLate(due, null, new Date('2026-11-21T03:16:00Z'))).toBe(true);
  });
});

describe('shutoffArrearsCleared ("once paid, the counter dispatches a restore work order")', () => {
  it('all bills of the shut-off order paid or held', () => {
    const at = [{ billId: 1 }, { billId: 2 }];
    expect(shutoffArrearsCleared(at, new Map([[1, 0]]))).toBe(true);
    expect(
      shutoffArrearsCleared(
        at,
        new Map([
          [1, 0],
          [2, 100],
        ]),
      ),
    ).toBe(false);
  });
});

describe('recheckDueOn ("readers re-check shut-off customers for self-reconnection")', () => {
  it('every N days after the shut-off or the last check', () => {
    expect(recheckDueOn('2026-10-01', null, s)).toBe('2026-10-31');
    expect(recheckDueOn('2026-10-01', '2026-10-20', s)).toBe('2026-11-19');
    expect(recheckDueOn('2026-10-01', null, { 'shutoff.recheckEveryDays': 7 })).toBe('2026-10-08');
  });
});
