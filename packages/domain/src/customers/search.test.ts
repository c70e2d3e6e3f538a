import { describe, expect, it } from 'vitest';
import { customerSearchKey, doubleCjk, planSearch } from './search.ts';

describe('customer search key and plan', () => {
  it('doubles CJK characters so two-character Chinese fragments have trigrams', () => {
    expect(doubleCjk('幸福3栋')).toBe('幸幸福福3栋栋');
  });

  it('a substring of the text is a substring of the key after doubling, for mixed text', () => {
    const key = customerSearchKey({
      name: '王芳',
      customerCode: '010100000123',
      idCardNo: '11010519491231002X',
      phones: ['13812345678'],
      meterNos: ['W000000123'],
      addresses: [{ district: '金水区', community: '幸福小区', building: '3', unit: '2', door: '501' }],
    });
    for (const q of [
      '王芳',
      '幸福',
      '幸福小区3栋2单元',
      '3栋2单元501',
      '幸福小区3-2-501',
      '1234',
      '002x',
      'w000000123',
    ]) {
      const plan = planSearch(q);
      expect(plan.kind).toBe('fragment');
      if (plan.kind === 'fragment') {
        const needle = plan.pattern.slice(1, -1);
        expect(key.includes(needle), q).toBe(true);
      }
    }
  });

  it('one Chinese character searches names by prefix (a surname); short codes match exactly only', () => {
    expect(planSearch('王')).toEqual({ kind: 'namePrefix', prefix: '王' });
    expect(planSearch('12')).toEqual({ kind: 'exactOnly', term: '12' });
    expect(planSearch('  ')).toEqual({ kind: 'empty' });
  });

  it('escapes LIKE wildcards typed by the user', () => {
    expect(planSearch('50%_')).toEqual({ kind: 'fragment', term: '50%_', pattern: '%50\\%\\_%' });
  });

  it('normalises full-width characters and case', () => {
    expect(planSearch('ＷＡ１２')).toMatchObject({ term: 'wa12' });
  });
});
