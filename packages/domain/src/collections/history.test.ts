import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COLLECTION_HISTORY_KINDS,
  type CollectionHistoryKind,
  isOpenHistoryEntry,
  orderCollectionHistory,
} from './history.ts';

const e = (kind: CollectionHistoryKind, id: number, at: string) => ({ kind, id, at });

describe('orderCollectionHistory: the collection timeline, newest first', () => {
  it('orders by instant across kinds, whatever the time zone the instant is written in', () => {
    const letter = e('letter', 3, '2026-10-05T09:00:00+08:00');
    const dispute = e('dispute', 9, '2026-10-20T02:00:00Z');
    const sms = e('message', 50, '2026-09-02T01:00:00.000Z');
    // 2026-10-05T09:00+08:00 is 01:00Z: after the SMS, before the dispute.
    expect(orderCollectionHistory([sms, letter, dispute])).toEqual([dispute, letter, sms]);
  });
  it('breaks ties by kind, then the later record first', () => {
    const at = '2026-10-05T01:00:00Z';
    const a = e('visit', 1, at);
    const b = e('message', 7, at);
    const c = e('message', 8, at);
    expect(orderCollectionHistory([a, b, c])).toEqual([c, b, a]);
  });
  it('does not change its input', () => {
    const input = [e('visit', 1, '2026-01-01T00:00:00Z'), e('visit', 2, '2026-02-01T00:00:00Z')];
    const copy = [...input];
    orderCollectionHistory(input);
    expect(input).toEqual(copy);
  });
  it('property: a permutation, sorted newest first, and independent of the input order', () => {
    const entry = fc.record({
      kind: fc.constantFrom(...COLLECTION_HISTORY_KINDS),
      id: fc.integer({ min: 1, max: 50 }),
      at: fc
        .integer({ min: Date.parse('2025-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') })
        .map((ms) => new Date(Math.floor(ms / 3_600_000) * 3_600_000).toISOString()),
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 40 }), (entries) => {
        const out = orderCollectionHistory(entries);
        expect(out).toHaveLength(entries.length);
        const canonical = (x: (typeof entries)[number], y: (typeof entries)[number]) =>
          x.id - y.id || x.at.localeCompare(y.at) || x.kind.localeCompare(y.kind);
        expect([...out].sort(canonical)).toEqual([...entries].sort(canonical));
        for (let i = 1; i < out.length; i++)
          expect(Date.parse(out[i - 1]!.at)).toBeGreaterThanOrEqual(Date.parse(out[i]!.at));
        expect(orderCollectionHistory([...entries].reverse())).toEqual(
          // Equal entries (same kind, id and instant) are interchangeable.
          out,
        );
      }),
    );
  });
});

describe('isOpenHistoryEntry: what is still waiting on someone', () => {
  it('open: unsent messages, undelivered letters, undecided requests and disputes, running orders and agreements', () => {
    expect(isOpenHistoryEntry({ kind: 'message', status: 'pending' })).toBe(true);
    expect(isOpenHistoryEntry({ kind: 'message', status: 'delivered' })).toBe(false);
    expect(isOpenHistoryEntry({ kind: 'message', status: 'cancelled' })).toBe(false);
    expect(isOpenHistoryEntry({ kind: 'letter', status: 'pending' })).toBe(true);
    expect(isOpenHistoryEntry({ kind: 'letter', status: 'registered_post' })).toBe(false);
    expect(isOpenHistoryEntry({ kind: 'shutoff_request', status: 'pending' })).toBe(true);
    expect(isOpenHistoryEntry({ kind: 'shutoff_request', status: 'approved' })).toBe(false);
    expect(isOpenHistoryEntry({ kind: 'work_order', status: 'dispatched' })).toBe(true);
    expect(isOpenHistoryEntry({ kind: 'work_order', status: 'done' })).toBe(false);
    expect(isOpenHistoryEntry({ kind: 'dispute', status: 'passed_on' })).toBe(true);
    expect(isOpenHistoryEntry({ kind: 'dispute', status: 'rejected' })).toBe(false);
    expect(isOpenHistoryEntry({ kind: 'agreement', status: 'signed' })).toBe(true);
    expect(isOpenHistoryEntry({ kind: 'agreement', status: 'completed' })).toBe(false);
    expect(isOpenHistoryEntry({ kind: 'visit', status: 'refused' })).toBe(false);
    expect(isOpenHistoryEntry({ kind: 'reconnection_check', status: 'reconnected' })).toBe(false);
  });
});
