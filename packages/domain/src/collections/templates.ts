import { type Bilingual, formatMessage } from '../platform/errors.ts';

/**
 * Message templates of the dunning timeline (DOMAIN.md §6): zh-CN text with `{field}` placeholders
 * over a closed set of the customer's figures, so a template can never ask for something the run
 * cannot fill in. Stored as data (message_template), edited by admins; validated before storing.
 */

/** The fields a template may name, with what each holds. */
export const MESSAGE_TEMPLATE_FIELDS = {
  customerName: { 'zh-CN': '户名', en: 'customer name' },
  customerCode: { 'zh-CN': '户号', en: 'customer code' },
  billNo: { 'zh-CN': '账单号', en: 'bill number' },
  period: { 'zh-CN': '账期（年-月）', en: 'billing period (YYYY-MM)' },
  readDay: { 'zh-CN': '抄表日', en: 'reading day' },
  volumeM3: { 'zh-CN': '用量（立方米）', en: 'volume (m³)' },
  amountYuan: { 'zh-CN': '本期金额（元）', en: 'amount of the bill (yuan)' },
  unpaidYuan: { 'zh-CN': '本期未缴（元）', en: 'unpaid of the bill (yuan)' },
  dueOn: { 'zh-CN': '缴费截止日', en: 'due date' },
  arrearsYuan: { 'zh-CN': '欠费合计（元）', en: 'arrears in total (yuan)' },
  officeName: { 'zh-CN': '营业所', en: 'office' },
  officePhone: { 'zh-CN': '营业所电话', en: 'office phone' },
  utilityName: { 'zh-CN': '公司名称', en: 'utility name' },
} as const satisfies Record<string, Bilingual>;

export type MessageTemplateField = keyof typeof MESSAGE_TEMPLATE_FIELDS;
export type MessageTemplateValues = Record<MessageTemplateField, string>;

export const MESSAGE_TEMPLATE_CHANNELS = ['sms', 'voice', 'letter'] as const;
export type MessageTemplateChannel = (typeof MESSAGE_TEMPLATE_CHANNELS)[number];

/** Longest template body, characters (a long SMS is split into at most a few parts). */
export const MESSAGE_TEMPLATE_MAX_CHARS = 500;

export interface MessageTemplate {
  code: string;
  channel: MessageTemplateChannel;
  name: string;
  body: string;
}

/** The templates of the default dunning policy (DOMAIN.md §6). */
export const DEFAULT_MESSAGE_TEMPLATES: readonly MessageTemplate[] = [
  {
    code: 'bill_notice',
    channel: 'sms',
    name: '账单通知短信（抄表次日）',
    body:
      '【{utilityName}】尊敬的{customerName}（户号{customerCode}），您{period}月用量{volumeM3}立方米，' +
      '应缴{amountYuan}元，请于{dueOn}前缴纳。咨询电话{officePhone}。',
  },
  {
    code: 'dunning_reminder',
    channel: 'sms',
    name: '催缴提醒短信',
    body:
      '【{utilityName}】尊敬的{customerName}（户号{customerCode}），您{period}月费用{unpaidYuan}元尚未缴纳，' +
      '目前欠费合计{arrearsYuan}元，请于{dueOn}前缴纳，以免产生滞纳金。如已缴费请忽略。咨询电话{officePhone}。',
  },
  {
    code: 'dunning_voice',
    channel: 'voice',
    name: '语音催款',
    body:
      '您好，这里是{utilityName}{officeName}。户号{customerCode}的{customerName}，您{period}月费用{unpaidYuan}元尚未缴纳，' +
      '欠费合计{arrearsYuan}元，请尽快缴纳。如有疑问请致电{officePhone}。',
  },
];

export const MESSAGE_TEMPLATE_MESSAGES = {
  TEMPLATE_FIELD_UNKNOWN: {
    'zh-CN': '模板中的字段 {field} 不存在，可用字段：{known}',
    en: 'The template names an unknown field {field}; known fields: {known}',
  },
  TEMPLATE_BRACE_UNCLOSED: {
    'zh-CN': '模板中第 {position} 个字符处的花括号未闭合',
    en: 'The brace at character {position} of the template is not closed',
  },
  TEMPLATE_EMPTY: { 'zh-CN': '模板内容不能为空', en: 'The template text is empty' },
  TEMPLATE_TOO_LONG: {
    'zh-CN': '模板不能超过 {max} 个字',
    en: 'The template is longer than {max} characters',
  },
  TEMPLATE_CHANNEL_UNKNOWN: {
    'zh-CN': '渠道 {channel} 不存在（短信 sms、语音 voice、函件 letter）',
    en: 'Unknown channel {channel} (sms, voice or letter)',
  },
  TEMPLATE_CODE_FORMAT: {
    'zh-CN': '模板代码只能是小写字母、数字和下划线（2–40 位）',
    en: 'A template code is 2–40 lower-case letters, digits or underscores',
  },
} as const satisfies Record<string, Bilingual>;

export type MessageTemplateProblemCode = keyof typeof MESSAGE_TEMPLATE_MESSAGES;

/** One reason a template (or a policy) is refused: the field it is about and the message in both languages. */
export interface DunningProblem {
  path: string;
  code: string;
  data: Record<string, unknown>;
  messages: Bilingual;
}

export function dunningProblem<M extends Record<string, Bilingual>>(
  catalogue: M,
  path: string,
  code: keyof M & string,
  data: Record<string, unknown> = {},
): DunningProblem {
  const m = catalogue[code]!;
  return {
    path,
    code,
    data,
    messages: { 'zh-CN': formatMessage(m['zh-CN'], data), en: formatMessage(m.en, data) },
  };
}

export const MESSAGE_TEMPLATE_CODE_PATTERN = /^[a-z][a-z0-9_]{1,39}$/;

/** The field names a template body uses, in order of first use. */
export function messageTemplateFields(body: string): string[] {
  const out: string[] = [];
  for (const m of body.matchAll(/\{([^{}]*)\}/g)) if (!out.includes(m[1]!)) out.push(m[1]!);
  return out;
}

/**
 * Whether a template can be stored: a known channel, a body that is not empty nor too long, every
 * brace closed, and every `{field}` one of MESSAGE_TEMPLATE_FIELDS (an unknown one is refused by name).
 */
export function validateTemplate(input: { code?: string; channel: string; body: string }): DunningProblem[] {
  const problems: DunningProblem[] = [];
  if (input.code !== undefined && !MESSAGE_TEMPLATE_CODE_PATTERN.test(input.code))
    problems.push(dunningProblem(MESSAGE_TEMPLATE_MESSAGES, 'code', 'TEMPLATE_CODE_FORMAT'));
  if (!(MESSAGE_TEMPLATE_CHANNELS as readonly string[]).includes(input.channel))
    problems.push(
      dunningProblem(MESSAGE_TEMPLATE_MESSAGES, 'channel', 'TEMPLATE_CHANNEL_UNKNOWN', {
        channel: input.channel,
      }),
    );
  const body = input.body;
  if (body.trim() === '') {
    problems.push(dunningProblem(MESSAGE_TEMPLATE_MESSAGES, 'body', 'TEMPLATE_EMPTY'));
    return problems;
  }
  if ([...body].length > MESSAGE_TEMPLATE_MAX_CHARS)
    problems.push(
      dunningProblem(MESSAGE_TEMPLATE_MESSAGES, 'body', 'TEMPLATE_TOO_LONG', {
        max: MESSAGE_TEMPLATE_MAX_CHARS,
      }),
    );
  // Braces pair up, without nesting.
  let open = -1;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === '{') {
      if (open >= 0) break;
      open = i;
    } else if (ch === '}') {
      if (open < 0) {
        open = i;
        break;
      }
      open = -1;
    }
  }
  if (open >= 0) {
    problems.push(
      dunningProblem(MESSAGE_TEMPLATE_MESSAGES, 'body', 'TEMPLATE_BRACE_UNCLOSED', { position: open + 1 }),
    );
    return problems;
  }
  const known = Object.keys(MESSAGE_TEMPLATE_FIELDS).join(', ');
  for (const field of messageTemplateFields(body))
    if (!(field in MESSAGE_TEMPLATE_FIELDS))
      problems.push(
        dunningProblem(MESSAGE_TEMPLATE_MESSAGES, 'body', 'TEMPLATE_FIELD_UNKNOWN', { field, known }),
      );
  return problems;
}

/** The body with each `{field}` replaced by its value (a validated template names known fields only). */
export function renderTemplate(body: string, values: MessageTemplateValues): string {
  return body.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in MESSAGE_TEMPLATE_FIELDS ? values[key as MessageTemplateField] : whole,
  );
}

/** A sample customer's figures, for previewing a template before it is stored. */
export const SAMPLE_TEMPLATE_VALUES: MessageTemplateValues = {
  customerName: '张三',
  customerCode: '0101000123',
  billNo: 'B202610000123',
  period: '2026-10',
  readDay: '2026-10-08',
  volumeM3: '18',
  amountYuan: '63.90',
  unpaidYuan: '63.90',
  dueOn: '2026-11-07',
  arrearsYuan: '127.80',
  officeName: '城东营业所',
  officePhone: '0571-88001234',
  utilityName: '城市水务',
};
