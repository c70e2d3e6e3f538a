import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MESSAGE_TEMPLATES,
  MESSAGE_TEMPLATE_FIELDS,
  type MessageTemplateValues,
  messageTemplateFields,
  renderTemplate,
  SAMPLE_TEMPLATE_VALUES,
  validateTemplate,
} from './templates.ts';

describe('message templates (zh-CN, {field} placeholders over a closed set)', () => {
  it('the default templates are valid and render with the customer’s figures', () => {
    for (const t of DEFAULT_MESSAGE_TEMPLATES) expect(validateTemplate(t), t.code).toEqual([]);
    const text = renderTemplate(DEFAULT_MESSAGE_TEMPLATES[0]!.body, SAMPLE_TEMPLATE_VALUES);
    expect(text).toContain('张三');
    expect(text).toContain('18立方米');
    expect(text).toContain('63.90元');
    expect(text).not.toMatch(/[{}]/);
  });

  it('refuses an unknown field, naming it', () => {
    const problems = validateTemplate({ channel: 'sms', body: '您好{customerName}，余额{balanceYuan}元' });
    expect(problems.map((p) => `${p.path} ${p.code}`)).toEqual(['body TEMPLATE_FIELD_UNKNOWN']);
    expect(problems[0]!.data.field).toBe('balanceYuan');
    expect(problems[0]!.messages['zh-CN']).toContain('balanceYuan');
    expect(problems[0]!.messages.en).toContain('balanceYuan');
  });

  it('refuses an unclosed brace, an empty or too long body, an unknown channel and a bad code', () => {
    const codes = (i: { code?: string; channel: string; body: string }) =>
      validateTemplate(i).map((p) => p.code);
    expect(codes({ channel: 'sms', body: '您好{customerName' })).toEqual(['TEMPLATE_BRACE_UNCLOSED']);
    expect(codes({ channel: 'sms', body: '您好}customerName{' })).toEqual(['TEMPLATE_BRACE_UNCLOSED']);
    expect(codes({ channel: 'sms', body: '  ' })).toEqual(['TEMPLATE_EMPTY']);
    expect(codes({ channel: 'sms', body: '欠'.repeat(501) })).toEqual(['TEMPLATE_TOO_LONG']);
    expect(codes({ channel: 'fax', body: 'x' })).toEqual(['TEMPLATE_CHANNEL_UNKNOWN']);
    expect(codes({ code: 'Bad Code', channel: 'sms', body: 'x' })).toEqual(['TEMPLATE_CODE_FORMAT']);
  });

  it('lists the fields a body uses once each, in order', () => {
    expect(messageTemplateFields('{a}{b}{a} {c}')).toEqual(['a', 'b', 'c']);
  });

  it('any body built from known fields validates and renders without placeholders left', () => {
    const names = Object.keys(MESSAGE_TEMPLATE_FIELDS) as (keyof typeof MESSAGE_TEMPLATE_FIELDS)[];
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constantFrom(...names).map((n) => `{${n}}`),
            fc.string({ maxLength: 5 }).filter((s) => !/[{}]/.test(s)),
          ),
          {
            minLength: 1,
            maxLength: 12,
          },
        ),
        (parts) => {
          const body = `催缴${parts.join('')}`;
          expect(validateTemplate({ channel: 'sms', body })).toEqual([]);
          const values = Object.fromEntries(names.map((n) => [n, `<${n}>`])) as MessageTemplateValues;
          expect(renderTemplate(body, values)).not.toMatch(/\{\w+\}/);
        },
      ),
    );
  });
});
