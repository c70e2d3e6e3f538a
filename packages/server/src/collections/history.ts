import {
  type CollectionHistoryEntry,
  type CollectionHistoryKind,
  isOpenHistoryEntry,
  type Lang,
  OUTBOX_EXPIRED,
  orderCollectionHistory,
  todayInChina,
} from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';
import type { AppDeps } from '../platform/context.ts';
import { id } from '../platform/zod.ts';

/**
 * A customer's collection history in one call (催缴记录, the customer page's tab): the notice and
 * dunning messages, field visits, letters, shut-off requests, shut-off and restore work orders,
 * reconnection checks, disputes and installment agreements, newest first (domain
 * orderCollectionHistory). Office-scoped by the :accountId parameter (platform/access.ts): staff of
 * another office get 404.
 */

/** Entries of each kind returned at most (the newest); the timeline holds `limit` of them in all. */
export const HISTORY_MAX_PER_KIND = 500;

interface Row {
  kind: CollectionHistoryKind;
  id: string | number;
  sub_kind: string;
  at: Date;
  status: string;
  ref: string;
  detail: string;
  amount_fen: string | number | null;
  staff_name: string | null;
  closed_at: Date | null;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function chinaDate(d: Date): string {
  return todayInChina(new Date(d));
}

export async function collectionHistory(
  db: Kysely<DB>,
  accountId: number,
  opts: { limit: number; lang: Lang },
): Promise<{ items: (CollectionHistoryEntry & { open: boolean })[]; truncated: boolean }> {
  const n = Math.min(opts.limit, HISTORY_MAX_PER_KIND);
  const en = opts.lang === 'en';
  // One statement, each source its newest `n`; the final order is the domain's.
  const { rows } = await sql<Row>`
    (select 'message' as kind, m.message_id as id, m.channel as sub_kind,
            coalesce(m.sent_at, m.not_before) as at,
            -- A message the sender found stale reads as 'expired' (docs/outbox.md "Stale messages").
            case when m.status = 'cancelled' and m.last_error = ${OUTBOX_EXPIRED} then 'expired' else m.status end
              as status,
            m.template as ref, m.body as detail, null::bigint as amount_fen, null::text as staff_name,
            m.delivered_at as closed_at
       from outbox_message m
      where m.account_id = ${accountId} and m.purpose in ('notice', 'dunning')
      order by coalesce(m.sent_at, m.not_before) desc limit ${n})
    union all
    (select 'visit', v.visit_id, v.method, v.visited_at, v.outcome,
            '', concat_ws(' · ', nullif(v.signer_name, ''), nullif(v.reason, '')), null, s.full_name, null
       from collection_visit v left join staff s on s.staff_id = v.staff_id
      where v.account_id = ${accountId}
      order by v.visited_at desc limit ${n})
    union all
    (select 'letter', l.letter_id, l.kind,
            -- The letter's own date (issued_on) at the time of day it was recorded.
            (l.issued_on + (l.issued_at at time zone 'Asia/Shanghai')::time) at time zone 'Asia/Shanghai',
            l.delivery, l.letter_no,
            concat_ws(' · ', nullif(l.signed_by_name, ''), nullif(l.tracking_no, ''), nullif(l.refusal_note, '')),
            l.arrears_fen, s.full_name, l.delivery_recorded_at
       from collection_letter l left join staff s on s.staff_id = l.issued_by
      where l.account_id = ${accountId}
      order by l.issued_on desc, l.issued_at desc limit ${n})
    union all
    (select 'shutoff_request', r.request_id, '', r.requested_at, r.status, '',
            concat_ws(' · ', nullif(r.reason, ''), nullif(r.decision_note, '')), r.arrears_fen, s.full_name,
            r.decided_at
       from shutoff_request r left join staff s on s.staff_id = r.requested_by
      where r.account_id = ${accountId}
      order by r.requested_at desc limit ${n})
    union all
    (select 'work_order', w.order_id, w.kind, w.dispatched_at, w.status, w.order_no,
            concat_ws(' · ', nullif(w.meter_no, ''), w.action, w.cause, nullif(w.result_note, '')),
            nullif(w.arrears_fen, 0), s.full_name, w.completed_at
       from collection_work_order w left join staff s on s.staff_id = w.dispatched_by
      where w.account_id = ${accountId}
      order by w.dispatched_at desc limit ${n})
    union all
    (select 'reconnection_check', k.check_id, '', k.checked_at, k.outcome, '', k.note, null, s.full_name, null
       from reconnection_check k left join staff s on s.staff_id = k.checked_by
      where k.account_id = ${accountId}
      order by k.checked_at desc limit ${n})
    union all
    (select 'dispute', d.dispute_id, d.category, d.recorded_at, d.status, '',
            concat_ws(' · ', ${en ? sql`c.name_en` : sql`c.name_zh`}, d.description, nullif(d.review_note, '')),
            d.disputed_fen, s.full_name, coalesce(d.decided_at, d.reviewed_at)
       from dispute d
       join dispute_category c on c.code = d.category
       left join staff s on s.staff_id = d.recorded_by
      where d.account_id = ${accountId}
      order by d.recorded_at desc limit ${n})
    union all
    (select 'agreement', a.agreement_id, '', a.requested_at, a.status, a.agreement_no,
            concat_ws(' · ', nullif(a.reason, ''), nullif(a.decision_note, '')), a.debt_fen, s.full_name,
            coalesce(a.completed_at, a.defaulted_at, a.signed_at, a.decided_at)
       from installment_agreement a left join staff s on s.staff_id = a.requested_by
      where a.account_id = ${accountId}
      order by a.requested_at desc limit ${n})`.execute(db);
  const entries: CollectionHistoryEntry[] = rows.map((r) => ({
    kind: r.kind,
    id: Number(r.id),
    subKind: r.sub_kind,
    at: iso(r.at)!,
    date: chinaDate(r.at),
    status: r.status,
    ref: r.ref,
    detail: r.detail,
    amountFen: r.amount_fen === null ? null : Number(r.amount_fen),
    staffName: r.staff_name,
    closedAt: iso(r.closed_at),
  }));
  const ordered = orderCollectionHistory(entries);
  return {
    items: ordered.slice(0, opts.limit).map((e) => ({ ...e, open: isOpenHistoryEntry(e) })),
    truncated: ordered.length > opts.limit,
  };
}

const tags = ['collections'];

/** GET /api/customers/:accountId/collection-history (docs/arrears.md "Collection history"). */
export async function collectionHistoryRoutes(app: FastifyInstance, { db }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/customers/:accountId/collection-history',
    {
      config: {
        permission: ['collection.view', 'collection.dispute', 'collection.manage', 'collection.policy'],
      },
      schema: {
        tags,
        summary:
          'The customer’s collection history, newest first: dunning messages, visits, letters, shut-off requests and work orders, reconnection checks, disputes, agreements',
        params: z.object({ accountId: id }),
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(HISTORY_MAX_PER_KIND).default(200),
        }),
      },
    },
    async (request) =>
      collectionHistory(db, request.params.accountId, { limit: request.query.limit, lang: request.ctx.lang }),
  );
}
