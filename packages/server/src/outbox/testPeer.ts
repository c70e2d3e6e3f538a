import type { AddressInfo } from 'node:net';
import smpp from 'smpp';
import './smpp.ts'; // registers the meterline_ref TLV on the shared PDU definitions

/**
 * A local SMSC for tests and the bench (never used in production): accepts binds, records every
 * submit_sm, answers with message ids, reassembles concatenated parts, sends delivery receipts
 * (kept until a transceiver is bound to take them, as an SMSC does), and can be told to drop the
 * link after the n-th submit (accepting that submit but never answering it), to refuse some
 * destinations, or to be down altogether.
 *
 * Like an SMSC that honours a client reference, it de-duplicates on (meterline_ref, part): a
 * resubmitted part is answered with the id it got the first time and is not delivered again. So
 * `unique` counts what reached handsets, `submits` what crossed the wire.
 */

export interface PeerSubmit {
  ref: string;
  to: string;
  part: number;
  parts: number;
  text: string;
  messageId: string;
  duplicate: boolean;
}

export interface PeerOptions {
  systemId?: string;
  password?: string;
  /** Destinations (as submitted, e.g. 8613800000000) answered with ESME_RINVDSTADR. */
  rejectTo?: Iterable<string>;
  /** The receipt stat for a destination (default DELIVRD). */
  receiptStat?: (to: string) => string;
  /** Whether to send receipts at all. */
  receipts?: boolean;
  /**
   * Keep every submit in `submits` (tests read them). The sandbox SMSC of a running server keeps
   * none, so its memory does not grow with every SMS the server ever sends.
   */
  record?: boolean;
  /**
   * How many (reference, part) pairs are remembered to de-duplicate resubmits, the oldest forgotten
   * first. A resubmit follows its first submit within a link's window; the sandbox keeps 100,000.
   */
  rememberRefs?: number;
}

interface Receipt {
  messageId: string;
  to: string;
  stat: string;
}

function smppDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const c = new Date(d.getTime() + 8 * 3600_000);
  return `${p(c.getUTCFullYear() % 100)}${p(c.getUTCMonth() + 1)}${p(c.getUTCDate())}${p(c.getUTCHours())}${p(c.getUTCMinutes())}`;
}

export class SmppTestPeer {
  private server: smpp.Server | null = null;
  port = 0;
  private nextId = 1;
  /** Ids unique across peers, as an SMSC's are. */
  private readonly idPrefix = Math.random().toString(36).slice(2, 8).toUpperCase();
  private readonly options: Required<Omit<PeerOptions, 'rejectTo'>> & { rejectTo: Set<string> };
  /** Every submit_sm received, duplicates included (unless `record` is false). */
  readonly submits: PeerSubmit[] = [];
  /** submit_sm received, duplicates included. */
  received = 0;
  /** First acceptance of each (ref, part). */
  private readonly accepted = new Map<string, PeerSubmit>();
  private readonly pendingReceipts: Receipt[] = [];
  private dropAt = new Set<number>();
  binds = 0;
  receiptsSent = 0;
  private sessions = new Set<smpp.Session>();
  /** Receipts written to a link and not yet answered: back in the queue if the link drops. */
  private readonly unacked = new Map<smpp.Session, Set<Receipt>>();

  constructor(options: PeerOptions = {}) {
    this.options = {
      systemId: options.systemId ?? 'meterline',
      password: options.password ?? 'secret',
      rejectTo: new Set(options.rejectTo ?? []),
      receiptStat: options.receiptStat ?? (() => 'DELIVRD'),
      receipts: options.receipts ?? true,
      record: options.record ?? true,
      rememberRefs: options.rememberRefs ?? Number.POSITIVE_INFINITY,
    };
  }

  /** Listens (on `port`, or a free one the first time; again on the same one after stop()). */
  async start(port = this.port): Promise<number> {
    const server = smpp.createServer((session) => this.onSession(session));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /** Down: stops listening and cuts every link. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sessions) s.destroy();
    this.sessions.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Drop the link on receiving the n-th submit_sm overall (1-based), accepted but never answered. */
  dropOnSubmit(n: number): void {
    this.dropAt.add(n);
  }

  /** What reached handsets: one entry per client reference, its parts reassembled. */
  delivered(): Map<string, { to: string; text: string; parts: number }> {
    const byRef = new Map<string, PeerSubmit[]>();
    for (const s of this.accepted.values()) byRef.set(s.ref, [...(byRef.get(s.ref) ?? []), s]);
    const out = new Map<string, { to: string; text: string; parts: number }>();
    for (const [ref, parts] of byRef) {
      parts.sort((a, b) => a.part - b.part);
      out.set(ref, { to: parts[0]!.to, text: parts.map((p) => p.text).join(''), parts: parts[0]!.parts });
    }
    return out;
  }

  get duplicates(): number {
    return this.submits.filter((s) => s.duplicate).length;
  }

  private onSession(session: smpp.Session): void {
    this.sessions.add(session);
    let bound = false;
    const onBind = (pdu: smpp.Pdu) => {
      if (pdu.system_id !== this.options.systemId || pdu.password !== this.options.password) {
        session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
        session.close();
        return;
      }
      bound = pdu.command === 'bind_transceiver';
      this.binds++;
      session.send(pdu.response({ system_id: 'testpeer' }));
      if (bound) this.flushReceipts(session);
    };
    session.on('bind_transceiver', onBind);
    session.on('bind_transmitter', onBind);
    session.on('enquire_link', (pdu: smpp.Pdu) => session.send(pdu.response()));
    session.on('unbind', (pdu: smpp.Pdu) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('submit_sm', (pdu: smpp.Pdu) => this.onSubmit(session, pdu, bound));
    session.on('error', () => {});
    session.on('close', () => {
      this.sessions.delete(session);
      const lost = this.unacked.get(session);
      this.unacked.delete(session);
      if (lost) this.pendingReceipts.unshift(...lost);
    });
  }

  private onSubmit(session: smpp.Session, pdu: smpp.Pdu, bound: boolean): void {
    const sm = pdu.short_message as { udh?: Buffer[]; message: string };
    const udh = sm.udh?.find((u) => u[0] === 0x00);
    const part = udh ? udh[4]! : 1;
    const parts = udh ? udh[3]! : 1;
    this.received++;
    const ref = String(pdu.meterline_ref ?? `seq-${this.received - 1}`);
    const to = String(pdu.destination_addr);
    if (this.options.rejectTo.has(to)) {
      if (this.options.record)
        this.submits.push({ ref, to, part, parts, text: sm.message, messageId: '', duplicate: false });
      session.send(pdu.response({ command_status: smpp.ESME_RINVDSTADR }));
      return;
    }
    const key = `${ref}#${part}`;
    const first = this.accepted.get(key);
    const record: PeerSubmit = {
      ref,
      to,
      part,
      parts,
      text: sm.message,
      messageId: first?.messageId ?? `${this.idPrefix}${String(this.nextId++).padStart(8, '0')}`,
      duplicate: first !== undefined,
    };
    if (this.options.record) this.submits.push(record);
    if (!first) {
      this.accepted.set(key, record);
      // Maps keep insertion order: the first key is the oldest.
      if (this.accepted.size > this.options.rememberRefs)
        this.accepted.delete(this.accepted.keys().next().value as string);
      if (this.options.receipts)
        this.pendingReceipts.push({ messageId: record.messageId, to, stat: this.options.receiptStat(to) });
    }
    if (this.dropAt.delete(this.received)) {
      session.destroy();
      return;
    }
    session.send(pdu.response({ message_id: record.messageId }));
    if (bound) setImmediate(() => this.flushReceipts(session));
  }

  private flushReceipts(session: smpp.Session): void {
    while (this.pendingReceipts.length > 0 && !session.socket.destroyed) {
      const r = this.pendingReceipts.shift()!;
      const unacked = this.unacked.get(session) ?? new Set<Receipt>();
      this.unacked.set(session, unacked);
      unacked.add(r);
      const now = smppDate(new Date());
      const text = `id:${r.messageId} sub:001 dlvr:${r.stat === 'DELIVRD' ? '001' : '000'} submit date:${now} done date:${now} stat:${r.stat} err:000 text:`;
      const sent = session.send(
        new smpp.PDU('deliver_sm', {
          source_addr: r.to,
          destination_addr: 'meterline',
          esm_class: 0x04,
          short_message: text,
          receipted_message_id: r.messageId,
        }),
        (resp) => {
          unacked.delete(r);
          if (resp.command_status === 0) this.receiptsSent++;
          // Refused or lost: keep it for the next bind, as an SMSC retries a receipt.
          else this.pendingReceipts.push(r);
        },
      );
      if (!sent) {
        unacked.delete(r);
        this.pendingReceipts.unshift(r);
        return;
      }
    }
  }
}
