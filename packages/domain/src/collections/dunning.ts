import { addDays, type WorkingCalendar } from '../calendar/workingDays.ts';
import type { Bilingual } from '../platform/errors.ts';
import {
  type DunningProblem,
  dunningProblem,
  MESSAGE_TEMPLATE_CODE_PATTERN,
  type MessageTemplateChannel,
} from './templates.ts';

/**
 * The dunning timeline (催缴, DOMAIN.md §6) as data: a policy is a list of steps, each fired a number
 * of days (or working days) after the bill's reading day or due date, on a channel, when a
 * condition on the bill holds, with a message template. Versioned by effective date. The default is
 * DOMAIN.md's: day +1 an SMS with volume and amount (the bill notice), day +10 unpaid → a reminder
 * SMS, day +15 unpaid → the voice-call list (语音催款).
 *
 * House rule, whatever the condition: nothing is sent about a bill that is settled or cancelled.
 */

export const DUNNING_ANCHORS = ['reading', 'due'] as const;
export type DunningAnchor = (typeof DUNNING_ANCHORS)[number];
export const DUNNING_UNITS = ['days', 'working_days'] as const;
export type DunningUnit = (typeof DUNNING_UNITS)[number];
export const DUNNING_CHANNELS = [
  'sms',
  'voice',
  'letter',
] as const satisfies readonly MessageTemplateChannel[];
export type DunningChannel = (typeof DUNNING_CHANNELS)[number];
/** The channels' names in messages. */
export const DUNNING_CHANNEL_NAMES: Record<DunningChannel, Bilingual> = {
  sms: { 'zh-CN': '短信', en: 'SMS' },
  voice: { 'zh-CN': '语音催款', en: 'voice calls' },
  letter: { 'zh-CN': '函件', en: 'letters' },
};
/**
 * When a step fires for a bill that is not settled (the house rule comes first):
 * - always: no further condition (a notice rather than a reminder);
 * - unpaid: something of the bill is unpaid on the step's day (same as always today; kept so a
 *   policy reads as DOMAIN.md does);
 * - overdue: unpaid and past its due date;
 * - nothing_paid: not a fen of the bill has been paid.
 */
export const DUNNING_CONDITIONS = ['always', 'unpaid', 'overdue', 'nothing_paid'] as const;
export type DunningCondition = (typeof DUNNING_CONDITIONS)[number];

export interface DunningStep {
  /** Stable code, names the step in counts and in the outbox dedupe key. */
  code: string;
  name: string;
  anchor: DunningAnchor;
  /** Days (or working days) after the anchor; 0 = the anchor day itself. */
  offset: number;
  unit: DunningUnit;
  channel: DunningChannel;
  condition: DunningCondition;
  /** message_template code. */
  template: string;
}

export interface DunningPolicy {
  /** First day the policy is in force, YYYY-MM-DD. */
  effectiveFrom: string;
  steps: DunningStep[];
}

/** Most steps a policy may have. */
export const MAX_DUNNING_STEPS = 20;
/** Largest offset of a step, days or working days. */
export const MAX_DUNNING_OFFSET = 365;
/** The template of the day +1 notice the bill engine already enqueues (dedupe `bill:{billId}`). */
export const BILL_NOTICE_TEMPLATE_CODE = 'bill_notice';

/** The figures of the default policy (settings dunning.noticeDays / reminderDays / voiceDays). */
export interface DunningDefaults {
  noticeDays: number;
  reminderDays: number;
  voiceDays: number;
}

/** DOMAIN.md §6's timeline, from the settings' figures. */
export function defaultDunningPolicy(d: DunningDefaults, effectiveFrom = '2000-01-01'): DunningPolicy {
  return {
    effectiveFrom,
    steps: [
      {
        code: 'notice',
        name: '账单通知短信',
        anchor: 'reading',
        offset: d.noticeDays,
        unit: 'days',
        channel: 'sms',
        condition: 'always',
        template: BILL_NOTICE_TEMPLATE_CODE,
      },
      {
        code: 'reminder',
        name: '催缴提醒短信',
        anchor: 'reading',
        offset: d.reminderDays,
        unit: 'days',
        channel: 'sms',
        condition: 'unpaid',
        template: 'dunning_reminder',
      },
      {
        code: 'voice',
        name: '语音催款',
        anchor: 'reading',
        offset: d.voiceDays,
        unit: 'days',
        channel: 'voice',
        condition: 'unpaid',
        template: 'dunning_voice',
      },
    ],
  };
}

/** The anchor day of a step for a bill: its reading day (the bill's last day) or its due date. */
export function anchorDay(bill: { readDay: string; dueOn: string }, anchor: DunningAnchor): string {
  return anchor === 'reading' ? bill.readDay : bill.dueOn;
}

/**
 * The day a step fires for an anchor day: `offset` calendar days after it, or `offset` working
 * days after it on the national calendar (holidays skipped, 调休 Saturdays counted; an anchor on a
 * rest day counts from the next working day, so 0 working days = the first working day from it).
 */
export function stepDate(
  anchor: string,
  step: Pick<DunningStep, 'offset' | 'unit'>,
  calendar: WorkingCalendar,
): string {
  return step.unit === 'days' ? addDays(anchor, step.offset) : calendar.addWorkingDays(anchor, step.offset);
}

/** A bill as the dunning rules see it. */
export interface DunningBill {
  readDay: string;
  dueOn: string;
  amountFen: number;
  paidFen: number;
  status: 'open' | 'cancelled';
}

/** Whether a step's condition holds for a bill on `today` (a settled or cancelled bill: never). */
export function dunningConditionHolds(
  condition: DunningCondition,
  bill: DunningBill,
  today: string,
): boolean {
  if (bill.status !== 'open' || bill.paidFen >= bill.amountFen) return false;
  switch (condition) {
    case 'always':
    case 'unpaid':
      return true;
    case 'overdue':
      return bill.dueOn < today;
    case 'nothing_paid':
      return bill.paidFen === 0;
  }
}

export interface DueStep {
  step: DunningStep;
  /** The day the step fell on (before today when it is caught up). */
  date: string;
}

/**
 * dunningStepsDue: the steps of `policy` due for `bill` on `today` — those whose day falls in
 * [from, today] (from = today, or earlier when the daily run catches up days the server missed)
 * and whose condition holds today. A bill that is settled or cancelled gets nothing.
 */
export function dueSteps(
  today: string,
  bill: DunningBill,
  policy: DunningPolicy,
  calendar: WorkingCalendar,
  from: string = today,
): DueStep[] {
  const out: DueStep[] = [];
  for (const step of policy.steps) {
    const date = stepDate(anchorDay(bill, step.anchor), step, calendar);
    if (date < from || date > today) continue;
    if (!dunningConditionHolds(step.condition, bill, today)) continue;
    out.push({ step, date });
  }
  return out;
}
export const dunningStepsDue = dueSteps;

/**
 * The anchor days whose step day falls in [from, to]: what the daily run looks for in the bills
 * (one indexed `= any(days)` per step instead of a date computation per bill).
 */
export function anchorDaysFiring(
  step: Pick<DunningStep, 'offset' | 'unit'>,
  from: string,
  to: string,
  calendar: WorkingCalendar,
): string[] {
  const out: string[] = [];
  if (step.unit === 'days') {
    for (let d = addDays(from, -step.offset); d <= addDays(to, -step.offset); d = addDays(d, 1)) out.push(d);
    return out;
  }
  // n working days after an anchor is at least n calendar days after it, and at most about twice
  // that plus the longest run of rest days (Spring Festival: 9 days, with weekends around it).
  const earliest = addDays(from, -(step.offset * 2 + 30));
  for (let d = earliest; d <= addDays(to, -step.offset); d = addDays(d, 1)) {
    const fires = stepDate(d, step, calendar);
    if (fires >= from && fires <= to) out.push(d);
  }
  return out;
}

/**
 * The outbox dedupe key of a step's message about a bill. The day +1 notice (template bill_notice)
 * shares the bill engine's key `bill:{billId}`, so the run adds it only where the engine could not
 * (no mobile then); every other step is `dun:{stepCode}:{billId}`: once per bill and step, ever.
 */
export function dunningDedupeKey(step: Pick<DunningStep, 'code' | 'template'>, billId: number): string {
  return step.template === BILL_NOTICE_TEMPLATE_CODE ? `bill:${billId}` : `dun:${step.code}:${billId}`;
}

/**
 * The first day a run of `today` covers: the day after the last completed run, so days the
 * server was down are caught up — but at most `catchUpDays` back (a message weeks late does more
 * harm than good), and only today on the first run ever (a new installation does not dun the past).
 */
export function dunningWindowFrom(
  today: string,
  lastDoneRunDate: string | null,
  catchUpDays: number,
): string {
  if (lastDoneRunDate === null || lastDoneRunDate >= today) return today;
  const next = addDays(lastDoneRunDate, 1);
  const floor = addDays(today, -Math.max(0, Math.floor(catchUpDays)));
  // The later of the two (YYYY-MM-DD strings compare as dates).
  return [next, floor].sort()[1]!;
}

export const DUNNING_MESSAGES = {
  POLICY_NO_STEPS: { 'zh-CN': '催缴策略至少要有一个步骤', en: 'A dunning policy needs at least one step' },
  POLICY_TOO_MANY_STEPS: {
    'zh-CN': '催缴策略最多 {max} 个步骤',
    en: 'A dunning policy has at most {max} steps',
  },
  POLICY_DATE: { 'zh-CN': '生效日期格式应为 YYYY-MM-DD', en: 'The effective date is written YYYY-MM-DD' },
  STEP_CODE_FORMAT: {
    'zh-CN': '步骤代码只能是小写字母、数字和下划线（2–40 位）',
    en: 'A step code is 2–40 lower-case letters, digits or underscores',
  },
  STEP_CODE_DUPLICATE: { 'zh-CN': '步骤代码 {code} 重复', en: 'Step code {code} is used twice' },
  STEP_NAME_REQUIRED: { 'zh-CN': '请填写步骤名称', en: 'Give the step a name' },
  STEP_ANCHOR_UNKNOWN: {
    'zh-CN': '起算点 {value} 不存在（抄表日 reading、缴费截止日 due）',
    en: 'Unknown anchor {value} (reading or due)',
  },
  STEP_UNIT_UNKNOWN: {
    'zh-CN': '单位 {value} 不存在（自然日 days、工作日 working_days）',
    en: 'Unknown unit {value} (days or working_days)',
  },
  STEP_CHANNEL_UNKNOWN: {
    'zh-CN': '渠道 {value} 不存在（短信 sms、语音 voice、函件 letter）',
    en: 'Unknown channel {value} (sms, voice or letter)',
  },
  STEP_CONDITION_UNKNOWN: {
    'zh-CN': '条件 {value} 不存在（always、unpaid、overdue、nothing_paid）',
    en: 'Unknown condition {value} (always, unpaid, overdue or nothing_paid)',
  },
  STEP_OFFSET_RANGE: {
    'zh-CN': '间隔天数应为 0 到 {max} 的整数',
    en: 'The offset is a whole number from 0 to {max}',
  },
  STEP_TEMPLATE_UNKNOWN: { 'zh-CN': '模板 {template} 不存在', en: 'Unknown template {template}' },
  STEP_TEMPLATE_CHANNEL: {
    'zh-CN': '模板 {template} 用于{templateChannelZh}，与步骤的渠道（{channelZh}）不符',
    en: 'Template {template} is for {templateChannelEn}, not for the step’s channel ({channelEn})',
  },
  STEP_NOT_INCREASING: {
    'zh-CN': '步骤 {code} 在 {date} 触发，早于前一步骤 {other}（{otherDate}）；步骤须按时间先后排列',
    en: 'Step {code} fires on {date}, before the step above it, {other} ({otherDate}); list steps in time order',
  },
  STEP_OVERLAP: {
    'zh-CN': '步骤 {code} 与 {other} 同在 {date} 发送{channelZh}，步骤重叠',
    en: 'Steps {code} and {other} both send {channelEn} on {date}; they overlap',
  },
} as const satisfies Record<string, Bilingual>;

export interface PolicyCheckContext {
  /** The templates that exist, with their channels. */
  templates: readonly { code: string; channel: string }[];
  calendar: WorkingCalendar;
  /** Days from reading to due date (setting billing.dueDays), to compare steps of either anchor. */
  dueDays: number;
  /** Reading days sampled from the effective date to look for overlaps (default a year). */
  sampleDays?: number;
}

const isDate = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));

/**
 * validatePolicy: refuses, with the step and field each reason is about (`steps.2.offset`):
 * unknown anchor, unit, channel, condition or template; a template of another channel; a
 * duplicate or malformed code; an offset out of range; steps not in time order; and two steps
 * that would fire on the same day on the same channel (checked over a year of reading days on the
 * real calendar, so a working-day step that meets a calendar-day step is found).
 */
export function validatePolicy(policy: DunningPolicy, ctx: PolicyCheckContext): DunningProblem[] {
  const problems: DunningProblem[] = [];
  const p = (path: string, code: keyof typeof DUNNING_MESSAGES, data: Record<string, unknown> = {}) =>
    problems.push(dunningProblem(DUNNING_MESSAGES, path, code, data));
  if (!isDate(policy.effectiveFrom)) p('effectiveFrom', 'POLICY_DATE');
  if (policy.steps.length === 0) p('steps', 'POLICY_NO_STEPS');
  if (policy.steps.length > MAX_DUNNING_STEPS) {
    p('steps', 'POLICY_TOO_MANY_STEPS', { max: MAX_DUNNING_STEPS });
    return problems;
  }
  const seen = new Set<string>();
  const sound: boolean[] = [];
  policy.steps.forEach((s, i) => {
    const at = (f: string) => `steps.${i}.${f}`;
    const before = problems.length;
    if (!MESSAGE_TEMPLATE_CODE_PATTERN.test(s.code)) p(at('code'), 'STEP_CODE_FORMAT');
    else if (seen.has(s.code)) p(at('code'), 'STEP_CODE_DUPLICATE', { code: s.code });
    seen.add(s.code);
    if (typeof s.name !== 'string' || s.name.trim() === '') p(at('name'), 'STEP_NAME_REQUIRED');
    if (!(DUNNING_ANCHORS as readonly string[]).includes(s.anchor))
      p(at('anchor'), 'STEP_ANCHOR_UNKNOWN', { value: s.anchor });
    if (!(DUNNING_UNITS as readonly string[]).includes(s.unit))
      p(at('unit'), 'STEP_UNIT_UNKNOWN', { value: s.unit });
    if (!(DUNNING_CHANNELS as readonly string[]).includes(s.channel))
      p(at('channel'), 'STEP_CHANNEL_UNKNOWN', { value: s.channel });
    if (!(DUNNING_CONDITIONS as readonly string[]).includes(s.condition))
      p(at('condition'), 'STEP_CONDITION_UNKNOWN', { value: s.condition });
    if (!Number.isInteger(s.offset) || s.offset < 0 || s.offset > MAX_DUNNING_OFFSET)
      p(at('offset'), 'STEP_OFFSET_RANGE', { max: MAX_DUNNING_OFFSET });
    const template = ctx.templates.find((t) => t.code === s.template);
    if (!template) p(at('template'), 'STEP_TEMPLATE_UNKNOWN', { template: s.template });
    else if (template.channel !== s.channel)
      p(at('template'), 'STEP_TEMPLATE_CHANNEL', {
        template: s.template,
        templateChannel: template.channel,
        templateChannelZh:
          DUNNING_CHANNEL_NAMES[template.channel as DunningChannel]?.['zh-CN'] ?? template.channel,
        templateChannelEn: DUNNING_CHANNEL_NAMES[template.channel as DunningChannel]?.en ?? template.channel,
        channel: s.channel,
        channelZh: DUNNING_CHANNEL_NAMES[s.channel]?.['zh-CN'] ?? s.channel,
        channelEn: DUNNING_CHANNEL_NAMES[s.channel]?.en ?? s.channel,
      });
    sound.push(!problems.slice(before).some((x) => /\.(offset|unit|anchor)$/.test(x.path)));
  });
  if (!isDate(policy.effectiveFrom) || !sound.every(Boolean)) return problems;
  // Time order and overlaps, over a year of reading days from the effective date.
  const sampleDays = ctx.sampleDays ?? 366;
  const reported = new Set<number>();
  for (let k = 0; k < sampleDays; k++) {
    const readDay = addDays(policy.effectiveFrom, k);
    const bill = { readDay, dueOn: addDays(readDay, ctx.dueDays) };
    const dates = policy.steps.map((s) => stepDate(anchorDay(bill, s.anchor), s, ctx.calendar));
    for (let i = 1; i < policy.steps.length; i++) {
      if (reported.has(i)) continue;
      const s = policy.steps[i]!;
      const prev = policy.steps[i - 1]!;
      if (dates[i]! < dates[i - 1]!) {
        reported.add(i);
        p(`steps.${i}.offset`, 'STEP_NOT_INCREASING', {
          code: s.code,
          date: dates[i],
          other: prev.code,
          otherDate: dates[i - 1],
        });
        continue;
      }
      for (let j = 0; j < i; j++) {
        const other = policy.steps[j]!;
        if (dates[j] === dates[i] && other.channel === s.channel) {
          reported.add(i);
          p(`steps.${i}.offset`, 'STEP_OVERLAP', {
            code: s.code,
            other: other.code,
            date: dates[i],
            channel: s.channel,
            channelZh: DUNNING_CHANNEL_NAMES[s.channel]?.['zh-CN'] ?? s.channel,
            channelEn: DUNNING_CHANNEL_NAMES[s.channel]?.en ?? s.channel,
          });
          break;
        }
      }
    }
  }
  return problems;
}
