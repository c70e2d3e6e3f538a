import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { creditCodeCheckChar, validateCreditCode } from './creditCode.ts';
import { birthDateFromIdCard, idCardCheckChar, validateIdCardNo } from './idCard.ts';

const TODAY = new Date('2026-11-23T00:00:00Z');

describe('validateIdCardNo — GB 11643-1999 (DOMAIN.md §2: a person has a checksum-validated ID card number)', () => {
  it('accepts real-format numbers, including the X check character', () => {
    // The standard's published example.
    expect(validateIdCardNo('11010519491231002X', TODAY)).toEqual({
      ok: true,
      normalized: '11010519491231002X',
    });
    expect(validateIdCardNo('11010519491231002x', TODAY)).toEqual({
      ok: true,
      normalized: '11010519491231002X',
    });
    const first17 = '44052419800101001';
    expect(validateIdCardNo(` ${first17}${idCardCheckChar(first17)} `, TODAY).ok).toBe(true);
    // Born before 1900: not a living customer's number.
    expect(validateIdCardNo('440524188001010014', TODAY)).toEqual({ ok: false, code: 'ID_CARD_BIRTH_DATE' });
  });

  it('rejects each kind of mistake with its own code', () => {
    expect(validateIdCardNo('1101051949123100', TODAY)).toEqual({ ok: false, code: 'ID_CARD_LENGTH' });
    expect(validateIdCardNo('11010519491231002Y', TODAY)).toEqual({ ok: false, code: 'ID_CARD_CHARS' });
    expect(validateIdCardNo('99010519491231002X', TODAY)).toEqual({ ok: false, code: 'ID_CARD_REGION' });
    expect(validateIdCardNo('110105194902300021', TODAY)).toEqual({ ok: false, code: 'ID_CARD_BIRTH_DATE' });
    expect(validateIdCardNo('110105203001010011', TODAY)).toEqual({ ok: false, code: 'ID_CARD_BIRTH_DATE' });
    expect(validateIdCardNo('110105194912310021', TODAY)).toEqual({ ok: false, code: 'ID_CARD_CHECKSUM' });
  });

  it('catches every single-digit typo in the first 17 digits (the check digit is mod 11)', () => {
    const valid = '11010519491231002X';
    for (let i = 14; i < 17; i++) {
      for (let d = 0; d <= 9; d++) {
        if (String(d) === valid[i]) continue;
        const typo = valid.slice(0, i) + d + valid.slice(i + 1);
        expect(validateIdCardNo(typo, TODAY)).toEqual({ ok: false, code: 'ID_CARD_CHECKSUM' });
      }
    }
  });

  it('property: a generated number with its computed check character is valid and keeps its birth date', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('110105', '410102', '440524', '650102'),
        fc.date({ min: new Date('1900-01-01'), max: new Date('2026-01-01'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 999 }),
        (region, birth, seq) => {
          const ymd = birth.toISOString().slice(0, 10);
          const first17 = region + ymd.replaceAll('-', '') + String(seq).padStart(3, '0');
          const id = first17 + idCardCheckChar(first17);
          expect(validateIdCardNo(id, TODAY).ok).toBe(true);
          expect(birthDateFromIdCard(id)).toBe(ymd);
        },
      ),
    );
  });
});

describe('validateCreditCode — GB 32100-2015 (DOMAIN.md §2: an organisation has a checksum-validated credit code)', () => {
  it('accepts published codes', () => {
    expect(validateCreditCode('91350100M000100Y43')).toEqual({ ok: true, normalized: '91350100M000100Y43' });
    expect(validateCreditCode('91110000600037341L').ok).toBe(true);
    expect(validateCreditCode('11100000000013127D').ok).toBe(true);
  });

  it('rejects wrong length, forbidden letters and wrong check characters', () => {
    expect(validateCreditCode('91350100M000100Y4')).toEqual({ ok: false, code: 'CREDIT_CODE_LENGTH' });
    expect(validateCreditCode('91350100M000100I43')).toEqual({ ok: false, code: 'CREDIT_CODE_CHARS' });
    expect(validateCreditCode('91350100M000100Y44')).toEqual({ ok: false, code: 'CREDIT_CODE_CHECKSUM' });
  });

  it('property: any 17-character body with its check character validates; changing one body character breaks it', () => {
    const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...alphabet), { minLength: 9, maxLength: 9 }),
        fc.integer({ min: 8, max: 16 }),
        fc.integer({ min: 1, max: 30 }),
        (tail, pos, shift) => {
          const first17 = `91410100${tail.join('')}`;
          const code = first17 + creditCodeCheckChar(first17);
          expect(validateCreditCode(code).ok).toBe(true);
          const changed = alphabet[(alphabet.indexOf(first17[pos]!) + shift) % 31]!;
          const typo = first17.slice(0, pos) + changed + first17.slice(pos + 1) + code[17];
          expect(validateCreditCode(typo)).toEqual({ ok: false, code: 'CREDIT_CODE_CHECKSUM' });
        },
      ),
    );
  });
});
