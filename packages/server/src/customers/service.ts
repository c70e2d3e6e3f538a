import {
  allowedTransitions,
  type CustomerState,
  DomainError,
  icCardRequired,
  meterSizeProblem,
  type Permission,
  todayInChina,
  transitionPermission,
  type Utility,
} from '@meterline/domain';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { z } from 'zod';
import type { DB } from '../db/schema.ts';
import { audit, diff } from '../platform/audit.ts';
import { type Caller, type RequestContext, requireCaller } from '../platform/context.ts';
import { fieldError, forbidden, notFound, versionConflict } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import { refreshSearchKeys } from './repository.ts';
import { addressRow, contactRow, customerRow, meterRow, servicePointRow } from './rows.ts';
import type {
  addressInput,
  blacklistBody,
  blacklistEventBody,
  CreateCustomerBody,
  contactInput,
  lowIncomeBody,
  meterInput,
  servicePointInput,
  UpdateCustomerBody,
} from './schemas.ts';

type Tx = Transaction<DB>;
type MeterInput = z.infer<typeof meterInput>;

const METER_NUMBER_TAKEN = (meterNo: string, prefix = '') =>
  new DomainError(
    'METER_NUMBER_TAKEN',
    { meterNo },
    { 'zh-CN': '表号 {meterNo} 已被使用', en: 'Meter number {meterNo} is already in use' },
    [
      {
        path: `${prefix}meterNo`,
        code: 'METER_NUMBER_TAKEN',
        messages: { 'zh-CN': '表号已被使用', en: 'Already in use' },
      },
    ],
  );

const CUSTOMER_CODE_TAKEN = (customerCode: string) =>
  new DomainError(
    'CUSTOMER_CODE_TAKEN',
    { customerCode },
    { 'zh-CN': '用户编号 {customerCode} 已被使用', en: 'Customer code {customerCode} is already in use' },
    [
      {
        path: 'customerCode',
        code: 'CUSTOMER_CODE_TAKEN',
        messages: { 'zh-CN': '编号已被使用', en: 'Already in use' },
      },
    ],
  );

export class CustomerService {
  constructor(private readonly db: Kysely<DB>) {}

  // ------------------------------------------------------------------ create

  /** Runs fn in the given transaction, or in a new one. */
  private tx<T>(trx: Tx | undefined, fn: (trx: Tx) => Promise<T>): Promise<T> {
    return trx ? fn(trx) : this.db.transaction().execute(fn);
  }

  async create(
    ctx: RequestContext,
    body: CreateCustomerBody,
    outer?: Tx,
  ): Promise<{ accountId: number; customerCode: string }> {
    const caller = requireCaller(ctx);
    const settings = await loadSettings(this.db);
    const office = await this.db
      .selectFrom('office')
      .select(['office_id', 'code'])
      .where('office_id', '=', body.officeId)
      .executeTakeFirst();
    if (!office) throw fieldError('officeId', 'OFFICE_UNKNOWN');
    await this.checkUsageType(body.servicePoint.usageTypeCode, body.utility, 'servicePoint.usageTypeCode');
    if (body.meter) {
      this.checkMeterShape(
        body.meter,
        body.utility,
        body.address.floor,
        settings['meter.icCardAboveFloor'],
        'meter.',
      );
    }
    return this.tx(outer, async (trx) => {
      const { id: accountId } = (
        await sql<{ id: number }>`select nextval('account_id_seq') as id`.execute(trx)
      ).rows[0]!;
      const customerCode = body.customerCode || `${office.code}${String(accountId).padStart(8, '0')}`;
      await this.claimCustomerCode(trx, customerCode, accountId);
      const customer = customerRow(accountId, customerCode, body, caller.staffId);
      await trx.insertInto('customer').values(customer).execute();
      const contacts = this.withOnePrimary(body.contacts);
      for (const c of contacts) {
        await trx.insertInto('contact').values(contactRow(accountId, c)).execute();
      }
      const address = await trx
        .insertInto('address')
        .values(addressRow(accountId, body.address))
        .returning('address_id')
        .executeTakeFirstOrThrow();
      const sp = await trx
        .insertInto('service_point')
        .values(servicePointRow(accountId, address.address_id, body.servicePoint))
        .returning('service_point_id')
        .executeTakeFirstOrThrow();
      if (body.meter) {
        await this.insertMeter(trx, accountId, sp.service_point_id, body.utility, body.meter, 'meter.');
      }
      await refreshSearchKeys(trx, [accountId]);
      await audit(trx, ctx, {
        entityType: 'customer',
        entityId: accountId,
        accountId,
        officeId: body.officeId,
        action: 'create',
        after: {
          ...customer,
          contacts,
          address: body.address,
          servicePoint: body.servicePoint,
          meter: body.meter,
        },
      });
      return { accountId, customerCode };
    });
  }

  private withOnePrimary<T extends { isPrimary: boolean }>(contacts: T[]): T[] {
    const primary = contacts.findIndex((c) => c.isPrimary);
    return contacts.map((c, i) => ({ ...c, isPrimary: i === (primary === -1 ? 0 : primary) }));
  }

  private async claimCustomerCode(trx: Tx, customerCode: string, accountId: number): Promise<void> {
    const claimed = await trx
      .insertInto('customer_code_registry')
      .values({ customer_code: customerCode, account_id: accountId })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(claimed.numInsertedOrUpdatedRows ?? 0) === 0) throw CUSTOMER_CODE_TAKEN(customerCode);
  }

  private async checkUsageType(code: string, utility: string, path: string): Promise<void> {
    const ut = await this.db
      .selectFrom('usage_type')
      .select(['utility', 'active'])
      .where('code', '=', code)
      .executeTakeFirst();
    if (!ut?.active) throw fieldError(path, 'USAGE_TYPE_UNKNOWN');
    if (ut.utility !== utility) throw fieldError(path, 'USAGE_TYPE_UTILITY');
  }

  private checkMeterShape(
    meter: Pick<MeterInput, 'caliberDn' | 'flowRatingM3h' | 'icCard' | 'role' | 'masterMeterNo'>,
    utility: string,
    floor: number | null,
    icAboveFloor: number,
    prefix: string,
  ): void {
    if (meter.role === 'master' && meter.masterMeterNo) {
      throw fieldError(`${prefix}masterMeterNo`, 'MASTER_CANNOT_HAVE_MASTER');
    }
    const problem = meterSizeProblem(utility as Utility, meter.caliberDn, meter.flowRatingM3h);
    if (problem) {
      throw fieldError(
        `${prefix}${problem === 'FLOW_RATING_REQUIRED' ? 'flowRatingM3h' : 'caliberDn'}`,
        problem,
      );
    }
    if (!meter.icCard && icCardRequired(utility as Utility, floor, icAboveFloor)) {
      throw fieldError(`${prefix}icCard`, 'IC_CARD_REQUIRED', { floor: icAboveFloor });
    }
  }

  private async checkMasterMeter(trx: Tx, masterMeterNo: string | null, prefix: string): Promise<void> {
    if (!masterMeterNo) return;
    const master = await trx
      .selectFrom('meter_registry as r')
      .innerJoin('meter as m', (j) =>
        j.onRef('m.account_id', '=', 'r.account_id').onRef('m.meter_id', '=', 'r.meter_id'),
      )
      .select('m.role')
      .where('r.meter_no', '=', masterMeterNo)
      .executeTakeFirst();
    if (!master) throw fieldError(`${prefix}masterMeterNo`, 'MASTER_METER_UNKNOWN', { masterMeterNo });
    if (master.role !== 'master')
      throw fieldError(`${prefix}masterMeterNo`, 'MASTER_METER_NOT_MASTER', { masterMeterNo });
  }

  private async insertMeter(
    trx: Tx,
    accountId: number,
    servicePointId: number,
    utility: string,
    meter: Omit<MeterInput, 'servicePointId'>,
    prefix: string,
  ): Promise<number> {
    await this.checkMasterMeter(trx, meter.masterMeterNo, prefix);
    const row = await trx
      .insertInto('meter')
      .values({ ...meterRow(meter), account_id: accountId, service_point_id: servicePointId, utility })
      .returning('meter_id')
      .executeTakeFirstOrThrow();
    const claimed = await trx
      .insertInto('meter_registry')
      .values({ meter_no: meter.meterNo, account_id: accountId, meter_id: row.meter_id })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(claimed.numInsertedOrUpdatedRows ?? 0) === 0) throw METER_NUMBER_TAKEN(meter.meterNo, prefix);
    return row.meter_id;
  }

  // ------------------------------------------------------------------ read

  async get(ctx: RequestContext, accountId: number) {
    const caller = requireCaller(ctx);
    const customer = await this.db
      .selectFrom('customer as c')
      .innerJoin('office as o', 'o.office_id', 'c.office_id')
      .selectAll('c')
      .select(['o.name as office_name', 'o.code as office_code'])
      .where('c.account_id', '=', accountId)
      .executeTakeFirst();
    if (!customer) throw notFound('customer', accountId);
    const [contacts, addresses, servicePoints, meters, stateChanges, blacklist, events, documents] =
      await Promise.all([
        this.db
          .selectFrom('contact')
          .selectAll()
          .where('account_id', '=', accountId)
          .orderBy('contact_id')
          .execute(),
        this.db
          .selectFrom('address')
          .selectAll()
          .where('account_id', '=', accountId)
          .orderBy('address_id')
          .execute(),
        this.db
          .selectFrom('service_point as sp')
          .innerJoin('usage_type as ut', 'ut.code', 'sp.usage_type_code')
          .selectAll('sp')
          .select(['ut.name_zh as usage_name_zh', 'ut.name_en as usage_name_en'])
          .where('sp.account_id', '=', accountId)
          .orderBy('sp.service_point_id')
          .execute(),
        this.db
          .selectFrom('meter as m')
          .leftJoin('book as b', 'b.book_id', 'm.book_id')
          .selectAll('m')
          .select(['b.code as book_code', 'b.name as book_name'])
          .where('m.account_id', '=', accountId)
          .orderBy('m.meter_id')
          .execute(),
        this.db
          .selectFrom('customer_state_change as s')
          .leftJoin('staff as st', 'st.staff_id', 's.changed_by')
          .selectAll('s')
          .select('st.full_name as changed_by_name')
          .where('s.account_id', '=', accountId)
          .orderBy('s.change_id', 'desc')
          .execute(),
        this.db
          .selectFrom('blacklist_entry')
          .selectAll()
          .where('account_id', '=', accountId)
          .orderBy('entry_id', 'desc')
          .execute(),
        this.db
          .selectFrom('blacklist_event')
          .selectAll()
          .where('account_id', '=', accountId)
          .orderBy('occurred_on')
          .execute(),
        this.db
          .selectFrom('document as d')
          .leftJoin('staff as st', 'st.staff_id', 'd.uploaded_by')
          .select([
            'd.document_id',
            'd.doc_type',
            'd.file_name',
            'd.mime_type',
            'd.size_bytes',
            'd.uploaded_at',
            'st.full_name as uploaded_by_name',
          ])
          .where('d.account_id', '=', accountId)
          .where('d.removed_at', 'is', null)
          .orderBy('d.document_id', 'desc')
          .execute(),
      ]);
    // Sub-meters behind this customer's master meters (they may belong to other accounts).
    const masterNos = meters.filter((m) => m.role === 'master').map((m) => m.meter_no);
    const subMeters = masterNos.length
      ? await this.db
          .selectFrom('meter as m')
          .innerJoin('customer as c', 'c.account_id', 'm.account_id')
          .select(['m.meter_no', 'm.master_meter_no', 'm.account_id', 'c.name', 'c.customer_code'])
          .where('m.master_meter_no', 'in', masterNos)
          .orderBy('m.meter_no')
          .limit(1000)
          .execute()
      : [];
    const state = customer.state as CustomerState;
    return {
      customer: { ...customer, search_key: undefined },
      contacts,
      addresses,
      servicePoints,
      meters,
      subMeters,
      stateChanges,
      transitions: allowedTransitions(state).map((to) => ({
        to,
        allowed: caller.permissions.has(transitionPermission(state, to)!),
      })),
      blacklist: blacklist.map((e) => ({ ...e, events: events.filter((ev) => ev.entry_id === e.entry_id) })),
      documents,
    };
  }

  // ------------------------------------------------------------------ update

  private async lockCustomer(trx: Tx, accountId: number, version?: number) {
    const row = await trx
      .selectFrom('customer')
      .selectAll()
      .where('account_id', '=', accountId)
      .forUpdate()
      .executeTakeFirst();
    if (!row) throw notFound('customer', accountId);
    if (version !== undefined && row.version !== version) throw versionConflict();
    return row;
  }

  private async touch(trx: Tx, caller: Caller, accountId: number) {
    await trx
      .updateTable('customer')
      .set({ version: sql`version + 1`, updated_at: new Date(), updated_by: caller.staffId })
      .where('account_id', '=', accountId)
      .execute();
  }

  async update(
    ctx: RequestContext,
    accountId: number,
    body: UpdateCustomerBody,
  ): Promise<{ version: number }> {
    const caller = requireCaller(ctx);
    return this.db.transaction().execute(async (trx) => {
      const before = await this.lockCustomer(trx, accountId, body.version);
      if (before.utility !== body.utility) {
        const sp = await trx
          .selectFrom('service_point as sp')
          .innerJoin('usage_type as ut', 'ut.code', 'sp.usage_type_code')
          .select('ut.utility')
          .where('sp.account_id', '=', accountId)
          .where('ut.utility', '<>', body.utility)
          .executeTakeFirst();
        if (sp) throw fieldError('utility', 'USAGE_TYPE_UTILITY');
      }
      const patch = {
        office_id: body.officeId,
        kind: body.kind,
        name: body.name,
        id_card_no: body.kind === 'person' ? (body.idCardNo ?? null) : null,
        credit_code: body.kind === 'organisation' ? (body.creditCode ?? null) : null,
        bank_name: body.bankName,
        bank_account: body.bankAccount,
        utility: body.utility,
        connected_on: body.connectedOn,
        large_user: body.largeUser,
        notice_delivery: body.noticeDelivery,
        remarks: body.remarks,
      };
      const after = await trx
        .updateTable('customer')
        .set({ ...patch, version: before.version + 1, updated_at: new Date(), updated_by: caller.staffId })
        .where('account_id', '=', accountId)
        .returningAll()
        .executeTakeFirstOrThrow();
      await refreshSearchKeys(trx, [accountId]);
      const d = diff(before, after);
      await audit(trx, ctx, {
        entityType: 'customer',
        entityId: accountId,
        accountId,
        officeId: after.office_id,
        action: before.office_id !== after.office_id ? 'transfer_office' : 'update',
        ...d,
      });
      return { version: after.version };
    });
  }

  async changeState(
    ctx: RequestContext,
    accountId: number,
    body: { to: CustomerState; reason: string; version: number },
  ): Promise<{ version: number; state: CustomerState }> {
    const caller = requireCaller(ctx);
    return this.db.transaction().execute(async (trx) => {
      const before = await this.lockCustomer(trx, accountId, body.version);
      const from = before.state as CustomerState;
      const needed: Permission | null = transitionPermission(from, body.to);
      if (!needed) {
        throw new DomainError(
          'STATE_TRANSITION_NOT_ALLOWED',
          { from, to: body.to },
          {
            'zh-CN': '用户状态不能从「{from}」变更为「{to}」',
            en: 'A customer cannot go from {from} to {to}',
          },
        );
      }
      if (!caller.permissions.has(needed)) throw forbidden(needed);
      await trx
        .updateTable('customer')
        .set({
          state: body.to,
          state_changed_at: new Date(),
          version: before.version + 1,
          updated_at: new Date(),
          updated_by: caller.staffId,
          ...(from === 'pending' && body.to === 'active' && !before.connected_on
            ? { connected_on: todayInChina() }
            : {}),
        })
        .where('account_id', '=', accountId)
        .execute();
      await trx
        .insertInto('customer_state_change')
        .values({
          account_id: accountId,
          from_state: from,
          to_state: body.to,
          reason: body.reason,
          changed_by: caller.staffId,
        })
        .execute();
      await audit(trx, ctx, {
        entityType: 'customer',
        entityId: accountId,
        accountId,
        officeId: before.office_id,
        action: 'state_change',
        before: { state: from },
        after: { state: body.to, reason: body.reason },
      });
      return { version: before.version + 1, state: body.to };
    });
  }

  async setLowIncome(ctx: RequestContext, accountId: number, body: z.infer<typeof lowIncomeBody>) {
    const caller = requireCaller(ctx);
    if (body.lowIncome && Number(body.reductionM3) <= 0)
      throw fieldError('reductionM3', 'REDUCTION_REQUIRED');
    return this.db.transaction().execute(async (trx) => {
      const before = await this.lockCustomer(trx, accountId, body.version);
      const after = await trx
        .updateTable('customer')
        .set({
          low_income: body.lowIncome,
          low_income_reduction_m3: body.lowIncome ? body.reductionM3 : '0',
          low_income_cert_no: body.lowIncome ? body.certNo : '',
          low_income_valid_until: body.lowIncome ? body.validUntil : null,
          version: before.version + 1,
          updated_at: new Date(),
          updated_by: caller.staffId,
        })
        .where('account_id', '=', accountId)
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(trx, ctx, {
        entityType: 'customer',
        entityId: accountId,
        accountId,
        officeId: before.office_id,
        action: 'low_income',
        ...diff(before, after),
      });
      return { version: after.version };
    });
  }

  // ------------------------------------------------------------------ contacts, addresses, service points

  /** Runs a change to one of the customer's child rows: lock, change, refresh search, audit. */
  private async childChange<T>(
    ctx: RequestContext,
    accountId: number,
    entityType: string,
    action: string,
    change: (
      trx: Tx,
      officeId: number,
    ) => Promise<{ entityId: number; before?: unknown; after?: unknown; result: T }>,
  ): Promise<T> {
    const caller = requireCaller(ctx);
    return this.db.transaction().execute(async (trx) => {
      const customer = await this.lockCustomer(trx, accountId);
      const out = await change(trx, customer.office_id);
      await this.touch(trx, caller, accountId);
      await refreshSearchKeys(trx, [accountId]);
      await audit(trx, ctx, {
        entityType,
        entityId: `${accountId}/${out.entityId}`,
        accountId,
        officeId: customer.office_id,
        action,
        before: out.before,
        after: out.after,
      });
      return out.result;
    });
  }

  async addContact(ctx: RequestContext, accountId: number, body: z.infer<typeof contactInput>) {
    return this.childChange(ctx, accountId, 'contact', 'create', async (trx) => {
      if (body.isPrimary) {
        await trx
          .updateTable('contact')
          .set({ is_primary: false })
          .where('account_id', '=', accountId)
          .execute();
      }
      const row = await trx
        .insertInto('contact')
        .values(contactRow(accountId, body))
        .returningAll()
        .executeTakeFirstOrThrow();
      return { entityId: row.contact_id, after: row, result: { contactId: row.contact_id } };
    });
  }

  async updateContact(
    ctx: RequestContext,
    accountId: number,
    contactId: number,
    body: z.infer<typeof contactInput>,
  ) {
    return this.childChange(ctx, accountId, 'contact', 'update', async (trx) => {
      const before = await childRow(trx, 'contact', accountId, contactId);
      if (body.isPrimary) {
        await trx
          .updateTable('contact')
          .set({ is_primary: false })
          .where('account_id', '=', accountId)
          .execute();
      }
      const after = await trx
        .updateTable('contact')
        .set(contactRow(accountId, body))
        .where('account_id', '=', accountId)
        .where('contact_id', '=', contactId)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { entityId: contactId, ...diff(before, after), result: { contactId } };
    });
  }

  async removeContact(ctx: RequestContext, accountId: number, contactId: number) {
    return this.childChange(ctx, accountId, 'contact', 'delete', async (trx) => {
      const count = await trx
        .selectFrom('contact')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', accountId)
        .executeTakeFirstOrThrow();
      const before = await trx
        .deleteFrom('contact')
        .where('account_id', '=', accountId)
        .where('contact_id', '=', contactId)
        .returningAll()
        .executeTakeFirst();
      if (!before) throw notFound('contact', contactId);
      if (Number(count.n) <= 1) throw fieldError('contactId', 'LAST_CONTACT');
      return { entityId: contactId, before, result: { ok: true } };
    });
  }

  async addAddress(ctx: RequestContext, accountId: number, body: z.infer<typeof addressInput>) {
    return this.childChange(ctx, accountId, 'address', 'create', async (trx) => {
      const row = await trx
        .insertInto('address')
        .values(addressRow(accountId, body))
        .returningAll()
        .executeTakeFirstOrThrow();
      return { entityId: row.address_id, after: row, result: { addressId: row.address_id } };
    });
  }

  async updateAddress(
    ctx: RequestContext,
    accountId: number,
    addressId: number,
    body: z.infer<typeof addressInput>,
  ) {
    return this.childChange(ctx, accountId, 'address', 'update', async (trx) => {
      const before = await childRow(trx, 'address', accountId, addressId);
      const after = await trx
        .updateTable('address')
        .set(addressRow(accountId, body))
        .where('account_id', '=', accountId)
        .where('address_id', '=', addressId)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { entityId: addressId, ...diff(before, after), result: { addressId } };
    });
  }

  async addServicePoint(ctx: RequestContext, accountId: number, body: z.infer<typeof servicePointInput>) {
    const customer = await this.db
      .selectFrom('customer')
      .select('utility')
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (!customer) throw notFound('customer', accountId);
    await this.checkUsageType(body.usageTypeCode, customer.utility, 'usageTypeCode');
    return this.childChange(ctx, accountId, 'service_point', 'create', async (trx) => {
      const addressId = await this.addressOf(trx, accountId, body.addressId);
      const row = await trx
        .insertInto('service_point')
        .values(servicePointRow(accountId, addressId, body))
        .returningAll()
        .executeTakeFirstOrThrow();
      return { entityId: row.service_point_id, after: row, result: { servicePointId: row.service_point_id } };
    });
  }

  private async addressOf(trx: Tx, accountId: number, addressId: number | undefined): Promise<number> {
    const row = await trx
      .selectFrom('address')
      .select('address_id')
      .where('account_id', '=', accountId)
      .$if(addressId !== undefined, (q) => q.where('address_id', '=', addressId!))
      .orderBy('address_id')
      .executeTakeFirst();
    if (!row) throw fieldError('addressId', 'ADDRESS_UNKNOWN');
    return row.address_id;
  }

  async updateServicePoint(
    ctx: RequestContext,
    accountId: number,
    servicePointId: number,
    body: z.infer<typeof servicePointInput> & { active?: boolean },
  ) {
    const customer = await this.db
      .selectFrom('customer')
      .select('utility')
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (!customer) throw notFound('customer', accountId);
    await this.checkUsageType(body.usageTypeCode, customer.utility, 'usageTypeCode');
    return this.childChange(ctx, accountId, 'service_point', 'update', async (trx) => {
      const before = await childRow(trx, 'service_point', accountId, servicePointId);
      const addressId = await this.addressOf(trx, accountId, body.addressId ?? before.address_id);
      const after = await trx
        .updateTable('service_point')
        .set({ ...servicePointRow(accountId, addressId, body), active: body.active ?? before.active })
        .where('account_id', '=', accountId)
        .where('service_point_id', '=', servicePointId)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { entityId: servicePointId, ...diff(before, after), result: { servicePointId } };
    });
  }

  // ------------------------------------------------------------------ meters

  private async floorOf(trx: Tx, accountId: number, servicePointId: number): Promise<number | null> {
    const row = await trx
      .selectFrom('service_point as sp')
      .innerJoin('address as a', (j) =>
        j.onRef('a.account_id', '=', 'sp.account_id').onRef('a.address_id', '=', 'sp.address_id'),
      )
      .select('a.floor')
      .where('sp.account_id', '=', accountId)
      .where('sp.service_point_id', '=', servicePointId)
      .executeTakeFirst();
    if (!row) throw fieldError('servicePointId', 'SERVICE_POINT_UNKNOWN');
    return row.floor;
  }

  async addMeter(ctx: RequestContext, accountId: number, body: MeterInput) {
    const settings = await loadSettings(this.db);
    return this.childChange(ctx, accountId, 'meter', 'create', async (trx) => {
      const customer = await trx
        .selectFrom('customer')
        .select('utility')
        .where('account_id', '=', accountId)
        .executeTakeFirstOrThrow();
      const spId =
        body.servicePointId ??
        (
          await trx
            .selectFrom('service_point')
            .select('service_point_id')
            .where('account_id', '=', accountId)
            .orderBy('service_point_id')
            .executeTakeFirst()
        )?.service_point_id;
      if (!spId) throw fieldError('servicePointId', 'SERVICE_POINT_UNKNOWN');
      const floor = await this.floorOf(trx, accountId, spId);
      this.checkMeterShape(body, customer.utility, floor, settings['meter.icCardAboveFloor'], '');
      const meterId = await this.insertMeter(trx, accountId, spId, customer.utility, body, '');
      return { entityId: meterId, after: { ...body, servicePointId: spId }, result: { meterId } };
    });
  }

  async updateMeter(ctx: RequestContext, accountId: number, meterId: number, body: MeterInput) {
    const settings = await loadSettings(this.db);
    return this.childChange(ctx, accountId, 'meter', 'update', async (trx) => {
      const before = await childRow(trx, 'meter', accountId, meterId);
      const spId = body.servicePointId ?? before.service_point_id;
      const floor = await this.floorOf(trx, accountId, spId);
      this.checkMeterShape(body, before.utility, floor, settings['meter.icCardAboveFloor'], '');
      await this.checkMasterMeter(trx, body.masterMeterNo, '');
      if (body.meterNo === before.master_meter_no || body.masterMeterNo === body.meterNo) {
        throw fieldError('masterMeterNo', 'MASTER_METER_NOT_MASTER', { masterMeterNo: body.masterMeterNo });
      }
      if (before.role === 'master' && body.role !== 'master') {
        const subs = await trx
          .selectFrom('meter')
          .select('meter_no')
          .where('master_meter_no', '=', before.meter_no)
          .executeTakeFirst();
        if (subs) throw fieldError('role', 'MASTER_HAS_SUB_METERS');
      }
      if (body.meterNo !== before.meter_no) {
        const claimed = await trx
          .insertInto('meter_registry')
          .values({ meter_no: body.meterNo, account_id: accountId, meter_id: meterId })
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        if (Number(claimed.numInsertedOrUpdatedRows ?? 0) === 0) throw METER_NUMBER_TAKEN(body.meterNo);
        await trx.deleteFrom('meter_registry').where('meter_no', '=', before.meter_no).execute();
        await trx
          .updateTable('meter')
          .set({ master_meter_no: body.meterNo })
          .where('master_meter_no', '=', before.meter_no)
          .execute();
      }
      const after = await trx
        .updateTable('meter')
        .set({ ...meterRow(body), service_point_id: spId })
        .where('account_id', '=', accountId)
        .where('meter_id', '=', meterId)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { entityId: meterId, ...diff(before, after), result: { meterId } };
    });
  }

  async removeMeter(
    ctx: RequestContext,
    accountId: number,
    meterId: number,
    body: { removedOn: string; reason: string },
  ) {
    return this.childChange(ctx, accountId, 'meter', 'remove', async (trx) => {
      const before = await childRow(trx, 'meter', accountId, meterId);
      if (before.state === 'removed') throw fieldError('meterId', 'METER_ALREADY_REMOVED');
      await trx
        .updateTable('meter')
        .set({ state: 'removed', removed_on: body.removedOn })
        .where('account_id', '=', accountId)
        .where('meter_id', '=', meterId)
        .execute();
      return {
        entityId: meterId,
        before: { state: before.state },
        after: { state: 'removed', removed_on: body.removedOn, reason: body.reason },
        result: { meterId },
      };
    });
  }

  // ------------------------------------------------------------------ blacklist

  async addToBlacklist(ctx: RequestContext, accountId: number, body: z.infer<typeof blacklistBody>) {
    const caller = requireCaller(ctx);
    return this.childChange(ctx, accountId, 'blacklist', 'list', async (trx) => {
      const row = await trx
        .insertInto('blacklist_entry')
        .values({
          account_id: accountId,
          category: body.category,
          violation: body.violation,
          action_taken: body.actionTaken,
          listed_on: body.listedOn,
          listed_by: caller.staffId,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx
        .updateTable('customer')
        .set({ blacklisted: true })
        .where('account_id', '=', accountId)
        .execute();
      return { entityId: row.entry_id, after: row, result: { entryId: row.entry_id } };
    });
  }

  async addBlacklistEvent(
    ctx: RequestContext,
    accountId: number,
    entryId: number,
    body: z.infer<typeof blacklistEventBody>,
  ) {
    const caller = requireCaller(ctx);
    return this.childChange(ctx, accountId, 'blacklist', 'event', async (trx) => {
      await childRow(trx, 'blacklist_entry', accountId, entryId);
      const row = await trx
        .insertInto('blacklist_event')
        .values({
          account_id: accountId,
          entry_id: entryId,
          kind: body.kind,
          occurred_on: body.occurredOn,
          description: body.description,
          recorded_by: caller.staffId,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { entityId: entryId, after: row, result: { eventId: row.event_id } };
    });
  }

  async liftBlacklist(ctx: RequestContext, accountId: number, entryId: number, reason: string) {
    const caller = requireCaller(ctx);
    return this.childChange(ctx, accountId, 'blacklist', 'lift', async (trx) => {
      const before = await childRow(trx, 'blacklist_entry', accountId, entryId);
      if (before.lifted_on) throw fieldError('entryId', 'BLACKLIST_ALREADY_LIFTED');
      const after = await trx
        .updateTable('blacklist_entry')
        .set({ lifted_on: todayInChina(), lifted_by: caller.staffId, lift_reason: reason })
        .where('account_id', '=', accountId)
        .where('entry_id', '=', entryId)
        .returningAll()
        .executeTakeFirstOrThrow();
      const open = await trx
        .selectFrom('blacklist_entry')
        .select('entry_id')
        .where('account_id', '=', accountId)
        .where('lifted_on', 'is', null)
        .executeTakeFirst();
      await trx
        .updateTable('customer')
        .set({ blacklisted: !!open })
        .where('account_id', '=', accountId)
        .execute();
      return { entityId: entryId, ...diff(before, after), result: { ok: true } };
    });
  }

  /** The blacklist: open entries with the record DOMAIN.md §2 asks for. */
  async blacklist(
    caller: Caller,
    q: { officeId?: number; page: number; pageSize: number; includeLifted: boolean },
  ) {
    const base = this.db
      .selectFrom('blacklist_entry as b')
      .innerJoin('customer as c', 'c.account_id', 'b.account_id')
      .innerJoin('office as o', 'o.office_id', 'c.office_id')
      .$if(caller.officeIds !== null, (qb) =>
        qb.where('c.office_id', 'in', [...(caller.officeIds ?? []), -1]),
      )
      .$if(q.officeId !== undefined, (qb) => qb.where('c.office_id', '=', q.officeId!))
      .$if(!q.includeLifted, (qb) => qb.where('b.lifted_on', 'is', null));
    const [{ n }] = [await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()];
    const rows = await base
      .select([
        'b.account_id',
        'b.entry_id',
        'b.category',
        'b.violation',
        'b.action_taken',
        'b.listed_on',
        'b.lifted_on',
        'c.customer_code',
        'c.name',
        'o.name as office_name',
        sql<string>`(select concat_ws('', a.district, a.community, nullif(a.building,'') || '栋', nullif(a.unit,'') || '单元', nullif(a.door,'') || '室', a.detail) from address a where a.account_id = c.account_id order by a.address_id limit 1)`.as(
          'address',
        ),
        sql<string>`(select ct.phone from contact ct where ct.account_id = c.account_id order by ct.is_primary desc limit 1)`.as(
          'phone',
        ),
        sql<string>`(select string_agg(m.meter_no || ' ' || m.model, ', ') from meter m where m.account_id = c.account_id)`.as(
          'meters',
        ),
        sql<number>`(select count(*) from blacklist_event e where e.account_id = b.account_id and e.entry_id = b.entry_id and e.kind = 'inspection')::int`.as(
          'inspections',
        ),
      ])
      .orderBy('b.listed_on', 'desc')
      .orderBy('b.entry_id', 'desc')
      .limit(q.pageSize)
      .offset((q.page - 1) * q.pageSize)
      .execute();
    return { items: rows, total: Number(n), page: q.page, pageSize: q.pageSize };
  }
}

/** The child tables of an account, with their id columns. */
const CHILD_IDS = {
  contact: 'contact_id',
  address: 'address_id',
  service_point: 'service_point_id',
  meter: 'meter_id',
  blacklist_entry: 'entry_id',
} as const;
type ChildTable = keyof typeof CHILD_IDS;

/** One row of an account's child table, or 404: ids of another account are never found. */
async function childRow<T extends ChildTable>(
  trx: Tx,
  table: T,
  accountId: number,
  id: number,
): Promise<Selectable<DB[T]>> {
  const row = await trx
    .selectFrom(table as ChildTable)
    .selectAll()
    .where('account_id', '=', accountId)
    .where(CHILD_IDS[table] as 'meter_id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound(table.replace('_', ' '), id);
  return row as unknown as Selectable<DB[T]>;
}
