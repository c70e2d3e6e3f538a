import type { z } from 'zod';
import type {
  addressInput,
  CreateCustomerBody,
  contactInput,
  meterInput,
  servicePointInput,
} from './schemas.ts';

/**
 * Rows of the customer tables from the API's input shapes: one mapping for everything that
 * creates customers (the create API, the bulk import).
 */

type MeterInput = z.infer<typeof meterInput>;

export function customerRow(
  accountId: number,
  customerCode: string,
  body: Omit<CreateCustomerBody, 'state' | 'customerCode'> & { state: string },
  staffId: number,
) {
  return {
    account_id: accountId,
    office_id: body.officeId,
    customer_code: customerCode,
    kind: body.kind,
    name: body.name,
    id_card_no: body.kind === 'person' ? (body.idCardNo ?? null) : null,
    credit_code: body.kind === 'organisation' ? (body.creditCode ?? null) : null,
    bank_name: body.bankName,
    bank_account: body.bankAccount,
    utility: body.utility,
    state: body.state,
    connected_on: body.connectedOn,
    large_user: body.largeUser,
    notice_delivery: body.noticeDelivery,
    remarks: body.remarks,
    low_income: body.lowIncome !== null,
    low_income_reduction_m3: body.lowIncome?.reductionM3 ?? '0',
    low_income_cert_no: body.lowIncome?.certNo ?? '',
    low_income_valid_until: body.lowIncome?.validUntil ?? null,
    created_by: staffId,
    updated_by: staffId,
  };
}

export function contactRow(accountId: number, c: z.infer<typeof contactInput>) {
  return {
    account_id: accountId,
    name: c.name,
    relation: c.relation,
    phone: c.phone,
    is_primary: c.isPrimary,
    remarks: c.remarks,
  };
}

export function addressRow(accountId: number, a: z.infer<typeof addressInput>) {
  return {
    account_id: accountId,
    kind: a.kind,
    district: a.district,
    community: a.community,
    building: a.building,
    unit: a.unit,
    door: a.door,
    detail: a.detail,
    floor: a.floor,
  };
}

export function servicePointRow(
  accountId: number,
  addressId: number,
  sp: Omit<z.infer<typeof servicePointInput>, 'addressId'>,
) {
  return {
    account_id: accountId,
    address_id: addressId,
    usage_type_code: sp.usageTypeCode,
    description: sp.description,
    meter_location: sp.meterLocation,
    meter_box_no: sp.meterBoxNo,
    resettlement: sp.resettlement,
  };
}

export function meterRow(m: Omit<MeterInput, 'servicePointId'>) {
  return {
    meter_no: m.meterNo,
    caliber_dn: m.caliberDn,
    flow_rating_m3h: m.flowRatingM3h,
    make: m.make,
    model: m.model,
    install_date: m.installDate,
    seal_no: m.sealNo,
    direction: m.direction,
    regulator_box: m.regulatorBox,
    mounting: m.mounting,
    role: m.role,
    master_meter_no: m.masterMeterNo,
    ic_card: m.icCard,
    ic_card_no: m.icCardNo,
    dial_digits: m.dialDigits,
    initial_index: m.initialIndex,
  };
}
