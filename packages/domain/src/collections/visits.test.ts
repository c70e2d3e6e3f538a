import { describe, expect, it } from 'vitest';
import { type VisitInput, validateSite, validateVisit } from './visits.ts';

const base: VisitInput = {
  method: 'account_confirmation',
  outcome: 'signed',
  reason: '',
  hasPhoto: false,
  hasSignature: true,
  signerName: '张三',
  phoneKnown: true,
  phoneCall: null,
  promisedOn: null,
  site: null,
};
const codes = (v: Partial<VisitInput>) => validateVisit({ ...base, ...v }).map((p) => `${p.path}:${p.code}`);

describe('validateVisit (DOMAIN.md §6: method and outcome of a field visit)', () => {
  it('"the customer signs an account confirmation — preferred": needs a signature and a signer', () => {
    expect(codes({})).toEqual([]);
    expect(codes({ hasSignature: false, signerName: ' ' })).toEqual([
      'signature:VISIT_SIGNATURE_REQUIRED',
      'signerName:VISIT_SIGNER_REQUIRED',
    ]);
  });

  it('"or signs the dunning notice": also a signature', () => {
    expect(codes({ method: 'dunning_notice' })).toEqual([]);
    expect(codes({ method: 'dunning_notice', hasSignature: false })).toEqual([
      'signature:VISIT_SIGNATURE_REQUIRED',
    ]);
  });

  it('"if they refuse, the notice is posted, photographed, and the reason recorded"', () => {
    const refused = { method: 'notice_posted', outcome: 'refused', hasSignature: false, signerName: '' };
    expect(codes({ ...refused, hasPhoto: true, reason: '对水量有异议' })).toEqual([]);
    expect(codes({ ...refused, hasPhoto: false, reason: '' })).toEqual([
      'photo:VISIT_PHOTO_REQUIRED',
      'reason:VISIT_REASON_REQUIRED',
    ]);
    // A refused visit cannot claim a signed document.
    expect(codes({ ...refused, method: 'account_confirmation', hasPhoto: true, reason: 'x' })).toEqual([
      'method:VISIT_METHOD_MISMATCH',
    ]);
  });

  it('"if nobody is found, the notice is posted and photographed and, where a phone number is known, the customer is phoned"', () => {
    const nobody = {
      method: 'notice_posted',
      outcome: 'nobody_found',
      hasSignature: false,
      signerName: '',
      hasPhoto: true,
    };
    expect(codes({ ...nobody })).toEqual(['phoneCall:VISIT_PHONE_CALL_REQUIRED']);
    expect(codes({ ...nobody, phoneKnown: false })).toEqual([]);
    expect(codes({ ...nobody, phoneCall: { phone: '13800138000', result: 'promised', note: '' } })).toEqual(
      [],
    );
    expect(codes({ ...nobody, phoneCall: { phone: 'abc', result: 'maybe', note: '' } })).toEqual([
      'phoneCall.result:VISIT_PHONE_RESULT_UNKNOWN',
      'phoneCall.phone:VISIT_PHONE_FORMAT',
    ]);
    expect(codes({ ...nobody, phoneKnown: false, hasPhoto: false })).toEqual(['photo:VISIT_PHOTO_REQUIRED']);
  });

  it('refuses unknown methods and outcomes and a bad promise date', () => {
    expect(codes({ method: 'email', outcome: 'paid' })).toEqual([
      'method:VISIT_METHOD_UNKNOWN',
      'outcome:VISIT_OUTCOME_UNKNOWN',
    ]);
    expect(codes({ promisedOn: '2026-02-30' })).toEqual(['promisedOn:VISIT_PROMISED_ON_FORMAT']);
    expect(codes({ promisedOn: '2026-12-01' })).toEqual([]);
  });

  it('every problem carries its message in both languages', () => {
    for (const p of validateVisit({ ...base, method: 'x', outcome: 'y' })) {
      expect(p.messages['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
      expect(p.messages.en).toMatch(/[a-z]/);
    }
  });
});

describe('site data (residential: top floor, units, households; others: community, buildings, households, expected use, secondary supply and its type)', () => {
  it('residential', () => {
    expect(validateSite({ kind: 'residential', topFloor: 18, units: 3, households: 108 })).toEqual([]);
    expect(
      validateSite({ kind: 'residential', topFloor: 0, units: 1.5, households: -1 }).map((p) => p.path),
    ).toEqual(['site.topFloor', 'site.units', 'site.households']);
  });

  it('non-residential: the secondary supply type is required when there is one', () => {
    const site = {
      kind: 'non_residential' as const,
      community: '科技园',
      buildings: 4,
      households: 0,
      expectedUseM3: 1200,
      secondarySupply: true,
      secondarySupplyType: 'pump_station',
    };
    expect(validateSite(site)).toEqual([]);
    expect(validateSite({ ...site, secondarySupplyType: null }).map((p) => p.code)).toEqual([
      'SITE_SUPPLY_TYPE_REQUIRED',
    ]);
    expect(validateSite({ ...site, secondarySupply: false, secondarySupplyType: null })).toEqual([]);
    expect(validateSite({ ...site, community: '', expectedUseM3: -3 }).map((p) => p.code)).toEqual([
      'SITE_COMMUNITY_REQUIRED',
      'SITE_NUMBER',
    ]);
  });
});
