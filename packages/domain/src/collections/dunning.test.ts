import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, type CalendarEntry, WorkingCalendar } from '../calendar/workingDays.ts';
import {
  anchorDaysFiring,
  type DunningBill,
  type DunningPolicy,
  type DunningStep,
  defaultDunningPolicy,
  dueSteps,
  dunningDedupeKey,
  dunningWindowFrom,
  stepDate,
  validatePolicy,
} from './dunning.ts';
import { DEFAULT_MESSAGE_TEMPLATES } from './templates.ts';

/** The official 2026 National Day arrangement: 1–7 October off; Sunday 20 September and Saturday 10 October worked. */
const NATIONAL_DAY_2026: CalendarEntry[] = [
  ...['01', '02', '03', '04', '05', '06', '07'].map((d) => ({
    date: `2026-10-${d}`,
    kind: 'holiday' as const,
    name: '国庆节',
  })),
  { date: '2026-09-20', kind: 'adjusted_workday', name: '国庆节' },
  { date: '2026-10-10', kind: 'adjusted_workday', name: '国庆节' },
];
const cal = new WorkingCalendar(NATIONAL_DAY_2026);

/** DOMAIN.md §6: day +1 SMS, day +10 unpaid reminder SMS, day +15 unpaid voice call list. */
const policy = defaultDunningPolicy({ noticeDays: 1, reminderDays: 10, voiceDays: 15 });
const templates = DEFAULT_MESSAGE_TEMPLATES.map((t) => ({ code: t.code, channel: t.channel }));
const ctx = { templates, calendar: cal, dueDays: 30 };

const bill = (readDay: string, over: Partial<DunningBill> = {}): DunningBill => ({
  readDay,
  dueOn: addDays(readDay, 30),
  amountFen: 6_390,
  paidFen: 0,
  status: 'open',
  ...over,
});

/** Every day of [from, to] on which some step is due for the bill, with the step codes. */
function timeline(b: DunningBill, p: DunningPolicy, from: string, to: string, payOn?: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) {
    const state = payOn && d >= payOn ? { ...b, paidFen: b.amountFen } : b;
    for (const due of dueSteps(d, state, p, cal)) out.push(`${d} ${due.step.code}`);
  }
  return out;
}

describe('the dunning timeline (DOMAIN.md §6: D+1 SMS, D+10 unpaid reminder, D+15 unpaid voice list)', () => {
  it('fires D+1, D+10 and D+15 after a reading on a Friday, weekends included (calendar days)', () => {
    // Friday 2026-11-06: D+1 is Saturday, D+10 Monday 16, D+15 Saturday 21.
    expect(timeline(bill('2026-11-06'), policy, '2026-11-01', '2026-12-31')).toEqual([
      '2026-11-07 notice',
      '2026-11-16 reminder',
      '2026-11-21 voice',
    ]);
  });

  it('counts straight through the National Day holiday in calendar days', () => {
    // Reading on Wednesday 30 September 2026: D+1 falls on 1 October (holiday) all the same.
    expect(timeline(bill('2026-09-30'), policy, '2026-09-01', '2026-11-30')).toEqual([
      '2026-10-01 notice',
      '2026-10-10 reminder',
      '2026-10-15 voice',
    ]);
  });

  it('a payment stops the steps after it: paid on D+3 → only the D+1 notice', () => {
    expect(timeline(bill('2026-11-06'), policy, '2026-11-01', '2026-12-31', '2026-11-09')).toEqual([
      '2026-11-07 notice',
    ]);
  });

  it('paid on D+12 → notice and reminder, no voice call', () => {
    expect(timeline(bill('2026-11-06'), policy, '2026-11-01', '2026-12-31', '2026-11-18')).toEqual([
      '2026-11-07 notice',
      '2026-11-16 reminder',
    ]);
  });

  it('a partial payment does not stop the reminder; a cancelled bill gets nothing', () => {
    expect(timeline(bill('2026-11-06', { paidFen: 1_000 }), policy, '2026-11-01', '2026-12-31')).toHaveLength(
      3,
    );
    expect(timeline(bill('2026-11-06', { status: 'cancelled' }), policy, '2026-11-01', '2026-12-31')).toEqual(
      [],
    );
  });

  it('nothing is due for a settled bill whatever the condition', () => {
    const settled = bill('2026-11-06', { paidFen: 6_390 });
    for (const condition of ['always', 'unpaid', 'overdue', 'nothing_paid'] as const) {
      const p = { ...policy, steps: policy.steps.map((s) => ({ ...s, condition })) };
      expect(timeline(settled, p, '2026-11-01', '2027-01-31')).toEqual([]);
    }
  });
});

describe('working-day offsets on the national calendar', () => {
  const wd = (offset: number): DunningStep => ({
    code: 'x',
    name: 'x',
    anchor: 'reading',
    offset,
    unit: 'working_days',
    channel: 'sms',
    condition: 'unpaid',
    template: 'dunning_reminder',
  });

  it('jumps the National Day holiday and counts the adjusted Saturday 10 October', () => {
    // 30 Sep (Wed) + 1 working day → 8 Oct; + 3 → 10 Oct (Saturday worked); + 4 → 12 Oct.
    expect(stepDate('2026-09-30', wd(1), cal)).toBe('2026-10-08');
    expect(stepDate('2026-09-30', wd(3), cal)).toBe('2026-10-10');
    expect(stepDate('2026-09-30', wd(4), cal)).toBe('2026-10-12');
  });

  it('skips weekends: Friday + 1 working day is Monday; Sunday 20 September 2026 is worked', () => {
    expect(stepDate('2026-11-06', wd(1), cal)).toBe('2026-11-09');
    expect(stepDate('2026-09-18', wd(1), cal)).toBe('2026-09-20');
  });

  it('a D+10 working-day reminder after a reading on 28 September lands after the holiday', () => {
    // 29, 30 Sep, 8, 9, 10, 12, 13, 14, 15, 16 Oct.
    expect(stepDate('2026-09-28', wd(10), cal)).toBe('2026-10-16');
  });

  it('anchorDaysFiring finds exactly the anchors whose step day falls in the window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 120 }),
        fc.boolean(),
        (n, k, work) => {
          const step = { offset: n, unit: work ? ('working_days' as const) : ('days' as const) };
          const from = addDays('2026-08-01', k);
          const to = addDays(from, 2);
          const found = anchorDaysFiring(step, from, to, cal);
          for (const a of found) {
            const d = stepDate(a, step, cal);
            expect(d >= from && d <= to).toBe(true);
          }
          // And none is missed: every anchor in a wide range whose step falls in the window is found.
          for (let a = addDays(from, -90); a <= to; a = addDays(a, 1)) {
            const d = stepDate(a, step, cal);
            if (d >= from && d <= to) expect(found).toContain(a);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('during the holiday nothing fires for a working-day step; after it the backlog does', () => {
    const step = wd(1);
    for (const d of ['2026-10-02', '2026-10-05', '2026-10-07'])
      expect(anchorDaysFiring(step, d, d, cal), d).toEqual([]);
    // 30 September + 1 working day = 8 October; a reading on a holiday counts from 8 October
    // (day 0), so 1 working day after it is 9 October: the whole holiday's readings fire then.
    expect(anchorDaysFiring(step, '2026-10-08', '2026-10-08', cal)).toEqual(['2026-09-30']);
    expect(anchorDaysFiring(step, '2026-10-09', '2026-10-09', cal)).toEqual([
      '2026-10-01',
      '2026-10-02',
      '2026-10-03',
      '2026-10-04',
      '2026-10-05',
      '2026-10-06',
      '2026-10-07',
      '2026-10-08',
    ]);
  });
});

describe('the daily run’s window and keys', () => {
  it('catches up days missed since the last completed run, at most catchUpDays back', () => {
    expect(dunningWindowFrom('2026-11-10', '2026-11-09', 3)).toBe('2026-11-10');
    expect(dunningWindowFrom('2026-11-10', '2026-11-07', 3)).toBe('2026-11-08');
    expect(dunningWindowFrom('2026-11-10', '2026-10-01', 3)).toBe('2026-11-07');
    expect(dunningWindowFrom('2026-11-10', '2026-10-01', 0)).toBe('2026-11-10');
    expect(dunningWindowFrom('2026-11-10', null, 3)).toBe('2026-11-10');
  });

  it('dueSteps with a window from an earlier day returns the step missed then', () => {
    const due = dueSteps('2026-11-17', bill('2026-11-06'), policy, cal, '2026-11-15');
    expect(due.map((d) => [d.step.code, d.date])).toEqual([['reminder', '2026-11-16']]);
  });

  it('the D+1 step shares the bill engine’s notice key; other steps are keyed by step and bill', () => {
    expect(dunningDedupeKey(policy.steps[0]!, 42)).toBe('bill:42');
    expect(dunningDedupeKey(policy.steps[1]!, 42)).toBe('dun:reminder:42');
    expect(dunningDedupeKey(policy.steps[2]!, 42)).toBe('dun:voice:42');
  });
});

describe('validatePolicy refuses bad policies with the field each reason is about', () => {
  const codes = (p: DunningPolicy) => validatePolicy(p, ctx).map((x) => `${x.path} ${x.code}`);
  const withSteps = (steps: DunningStep[]): DunningPolicy => ({ effectiveFrom: '2026-11-01', steps });
  const [notice, reminder, voice] = policy.steps as [DunningStep, DunningStep, DunningStep];

  it('accepts the default policy', () => {
    expect(codes(policy)).toEqual([]);
  });

  it('two steps on the same day on the same channel overlap', () => {
    const twice = withSteps([notice, reminder, { ...reminder, code: 'reminder2', offset: 10 }]);
    expect(codes(twice)).toEqual(['steps.2.offset STEP_OVERLAP']);
    const msg = validatePolicy(twice, ctx)[0]!;
    expect(msg.messages['zh-CN']).toContain('reminder2');
    expect(msg.messages.en).toContain('reminder');
  });

  it('the same day on different channels is allowed (SMS and voice both on day 15)', () => {
    expect(codes(withSteps([notice, reminder, { ...voice, offset: 10 }]))).toEqual([]);
  });

  it('a working-day step that meets a calendar-day step on the same channel on some day overlaps', () => {
    // 8 working days after a reading reaches day +10 for some readings (those with a weekend between).
    const wdReminder: DunningStep = { ...reminder, code: 'wd', offset: 8, unit: 'working_days' };
    const out = codes(withSteps([notice, wdReminder, { ...reminder, offset: 12 }]));
    expect(out.some((c) => c.endsWith('STEP_OVERLAP') || c.endsWith('STEP_NOT_INCREASING'))).toBe(true);
  });

  it('offsets must increase down the list', () => {
    expect(codes(withSteps([notice, voice, reminder]))).toEqual(['steps.2.offset STEP_NOT_INCREASING']);
  });

  it('duplicate codes, unknown channel, template, anchor, unit, condition; bad offset', () => {
    const bad = withSteps([
      notice,
      { ...reminder, code: 'notice' },
      // Deliberately invalid input, as a client could send it.
      {
        ...voice,
        channel: 'fax',
        anchor: 'moon',
        unit: 'weeks',
        condition: 'sometimes',
      } as unknown as DunningStep,
      { ...voice, code: 'late', offset: -3, template: 'no_such' },
    ]);
    expect(codes(bad)).toEqual([
      'steps.1.code STEP_CODE_DUPLICATE',
      'steps.2.anchor STEP_ANCHOR_UNKNOWN',
      'steps.2.unit STEP_UNIT_UNKNOWN',
      'steps.2.channel STEP_CHANNEL_UNKNOWN',
      'steps.2.condition STEP_CONDITION_UNKNOWN',
      'steps.2.template STEP_TEMPLATE_CHANNEL',
      'steps.3.offset STEP_OFFSET_RANGE',
      'steps.3.template STEP_TEMPLATE_UNKNOWN',
    ]);
  });

  it('a template of another channel is refused on the step', () => {
    expect(codes(withSteps([notice, { ...reminder, template: 'dunning_voice' }]))).toEqual([
      'steps.1.template STEP_TEMPLATE_CHANNEL',
    ]);
  });

  it('an empty policy and a malformed effective date are refused', () => {
    expect(codes({ effectiveFrom: '2026-13-40', steps: [] })).toEqual([
      'effectiveFrom POLICY_DATE',
      'steps POLICY_NO_STEPS',
    ]);
  });
});
