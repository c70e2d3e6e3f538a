import {
  type DeliveryReceipt,
  parseDeliveryReceipt,
  receiptStatOfMessageState,
  splitSmsUcs2,
} from '@meterline/domain';
import smpp from 'smpp';

/**
 * SMS over SMPP 3.4 (docs/outbox.md): one transceiver bind to the configured SMSC, submits in a
 * window, long Chinese texts as UCS2 parts with a concatenation UDH, delivery receipts handed to the
 * caller and answered only once stored, and a reconnect with exponential back-off while the SMSC is
 * down.
 *
 * Every submit carries the message's client reference in a vendor TLV (`meterline_ref`, 0x1501,
 * "<accountId>-<messageId>", the same on every attempt). A submit whose response never came (the
 * link dropped, the response timed out) is reported as in doubt, not as failed: the sender then
 * resends it with the same reference, or holds it, as the `smsc.inDoubt` setting says.
 */

/** Vendor-specific TLV (SMPP 3.4 §5.3.2: 0x1400–0x3FFF) carrying our client reference. */
export const CLIENT_REF_TLV = 0x1501;
smpp.addTLV('meterline_ref', { id: CLIENT_REF_TLV, type: smpp.types.tlv.cstring });

/** SMPP esm_class bit of a delivery receipt (MC delivery receipt). */
const ESM_CLASS_RECEIPT = 0x04;
/** data_coding 8: UCS2 (UTF-16BE). */
const DATA_CODING_UCS2 = 0x08;
/** registered_delivery 1: a receipt on final success or failure. */
const REGISTERED_DELIVERY_FINAL = 0x01;
/** Keep-alive (enquire_link) while bound. */
const ENQUIRE_LINK_EVERY_MS = 30_000;
/** Bound on the window whatever the setting says. */
const MAX_WINDOW = 200;

export interface SmsToSend {
  /** Client reference: the same on every attempt of one message. */
  ref: string;
  to: string;
  text: string;
}

/** The SMSC answered with an error status: the message was not accepted. */
export class SmsRejected extends Error {
  constructor(readonly commandStatus: number) {
    super(`SMSC refused the message (command_status 0x${commandStatus.toString(16).padStart(8, '0')})`);
  }
}
/** The submit was written but its response never came: the SMSC may or may not have it. */
export class SmsInDoubt extends Error {
  constructor(why: string) {
    super(`no response from the SMSC (${why})`);
  }
}
/** Nothing was written: the link was down. Known not sent. */
export class SmsNotSent extends Error {
  constructor() {
    super('not sent: no bound SMSC link');
  }
}

export interface SmsTransport {
  readonly bound: boolean;
  /** Submits every part; resolves with the SMSC's message id of each part, in order. */
  submit(message: SmsToSend): Promise<string[]>;
  close(): Promise<void>;
}

export interface SmppConfig {
  host: string;
  port: number;
  systemId: string;
  password: string;
  sourceAddr: string;
  windowSize: number;
  responseTimeoutMs: number;
  reconnectBaseMs: number;
  reconnectCapMs: number;
}

export interface SmppTransportOptions extends SmppConfig {
  /** Stores a receipt; the deliver_sm is answered once this resolves (a throw: answered with a temporary error, so the SMSC sends it again). */
  onReceipt: (receipt: DeliveryReceipt) => Promise<void>;
  log?: (msg: string) => void;
}

interface InFlight {
  resolve: (messageId: string) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** The UDH of part `seq` of `total` (8-bit reference, IEI 0x00). */
export function concatUdh(reference: number, total: number, seq: number): Buffer {
  return Buffer.from([0x05, 0x00, 0x03, reference & 0xff, total, seq]);
}

/** The 8-bit concatenation reference of a client reference: stable across attempts. */
export function concatReference(ref: string): number {
  let h = 0;
  for (let i = 0; i < ref.length; i++) h = (h * 31 + ref.charCodeAt(i)) & 0xff;
  return h;
}

export class SmppTransport implements SmsTransport {
  private session: smpp.Session | null = null;
  private isBound = false;
  private closed = false;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Map<number, InFlight>();
  /** Submits waiting for a free window slot. */
  private readonly waiting: (() => void)[] = [];
  /** Window slots taken (written and unanswered, or about to be written). */
  private used = 0;
  /** Connection attempts and the back-off waited before each reconnect (tests and the page read them). */
  readonly stats = { connects: 0, binds: 0, reconnectDelaysMs: [] as number[], receipts: 0 };
  private readonly log: (msg: string) => void;
  private readonly window: number;

  constructor(private readonly options: SmppTransportOptions) {
    this.log = options.log ?? (() => {});
    this.window = Math.max(1, Math.min(MAX_WINDOW, Math.floor(options.windowSize)));
    this.connect();
  }

  get bound(): boolean {
    return this.isBound;
  }

  /** Resolves once bound (or rejects after `timeoutMs`). */
  async waitBound(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.isBound) {
      if (Date.now() > until) throw new Error('SMSC not bound');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private connect(): void {
    if (this.closed) return;
    this.stats.connects++;
    const session = smpp.connect({ host: this.options.host, port: this.options.port });
    this.session = session;
    session.on('connect', () => {
      (session.bind_transceiver as (o: object, cb: (pdu: smpp.Pdu) => void) => void)(
        { system_id: this.options.systemId, password: this.options.password, interface_version: 0x34 },
        (pdu) => {
          if (pdu.command_status !== 0) {
            this.log(`SMSC refused the bind (status ${pdu.command_status})`);
            session.destroy();
            return;
          }
          this.isBound = true;
          this.failures = 0;
          this.stats.binds++;
          this.log(`bound to SMSC ${this.options.host}:${this.options.port}`);
          this.keepAlive(session);
        },
      );
    });
    session.on('deliver_sm', (pdu: smpp.Pdu) => void this.onDeliver(session, pdu));
    session.on('enquire_link', (pdu: smpp.Pdu) => session.send(pdu.response()));
    session.on('unbind', (pdu: smpp.Pdu) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('error', () => {}); // 'close' follows; the reason does not change what we do
    session.on('close', () => this.onClose(session));
  }

  private keepAlive(session: smpp.Session): void {
    const timer = setInterval(() => {
      if (this.session !== session || !this.isBound) return clearInterval(timer);
      (session.enquire_link as (cb: () => void) => void)(() => {});
    }, ENQUIRE_LINK_EVERY_MS);
    timer.unref();
    session.once('close', () => clearInterval(timer));
  }

  private onClose(session: smpp.Session): void {
    if (this.session !== session) return;
    this.isBound = false;
    this.session = null;
    // Written but unanswered: in doubt. Waiting for a slot: never written.
    for (const [seq, f] of this.inFlight) {
      clearTimeout(f.timer);
      f.reject(new SmsInDoubt('link closed'));
      this.inFlight.delete(seq);
    }
    this.used = 0;
    for (const wake of this.waiting.splice(0)) wake();
    if (this.closed) return;
    const delayMs = Math.min(
      this.options.reconnectCapMs,
      this.options.reconnectBaseMs * 2 ** Math.min(this.failures, 30),
    );
    this.failures++;
    this.stats.reconnectDelaysMs.push(delayMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delayMs);
    this.reconnectTimer.unref();
  }

  private async onDeliver(session: smpp.Session, pdu: smpp.Pdu): Promise<void> {
    const esmClass = Number(pdu.esm_class ?? 0);
    if ((esmClass & 0x3c) !== ESM_CLASS_RECEIPT) {
      // A customer's reply (MO): not handled here; accepted so the SMSC does not resend it.
      session.send(pdu.response());
      return;
    }
    const sm = pdu.short_message as { message?: unknown } | Buffer | string | undefined;
    const text =
      typeof sm === 'string' ? sm : Buffer.isBuffer(sm) ? sm.toString('latin1') : String(sm?.message ?? '');
    const parsed = parseDeliveryReceipt(text);
    const tlvId = typeof pdu.receipted_message_id === 'string' ? pdu.receipted_message_id : null;
    const tlvStat =
      typeof pdu.message_state === 'number' ? receiptStatOfMessageState(pdu.message_state) : null;
    const receipt: DeliveryReceipt | null =
      tlvId || parsed
        ? {
            smscMessageId: tlvId ?? parsed!.smscMessageId,
            stat: tlvStat ?? parsed?.stat ?? 'UNKNOWN',
            err: parsed?.err ?? '',
            doneAt: parsed?.doneAt ?? null,
          }
        : null;
    if (!receipt) {
      session.send(pdu.response());
      return;
    }
    try {
      await this.options.onReceipt(receipt);
      this.stats.receipts++;
      session.send(pdu.response());
    } catch (error) {
      this.log(`receipt not stored, the SMSC will resend it: ${(error as Error).message}`);
      session.send(pdu.response({ command_status: smpp.ESME_RX_T_APPN }));
    }
  }

  /** Takes a window slot (synchronously counted, so concurrent submits cannot all pass at once). */
  private async slot(session: smpp.Session): Promise<boolean> {
    while (this.isBound && this.session === session && this.used >= this.window)
      await new Promise<void>((r) => this.waiting.push(r));
    if (!this.isBound || this.session !== session) return false;
    this.used++;
    return true;
  }

  private release(): void {
    this.used = Math.max(0, this.used - 1);
    this.waiting.shift()?.();
  }

  private async submitPart(session: smpp.Session, fields: Record<string, unknown>): Promise<string> {
    if (!(await this.slot(session))) throw new SmsNotSent();
    return new Promise<string>((resolve, reject) => {
      const pdu = new smpp.PDU('submit_sm', fields);
      const written = session.send(pdu, (resp) => {
        const f = this.inFlight.get(pdu.sequence_number);
        if (!f) return;
        clearTimeout(f.timer);
        this.inFlight.delete(pdu.sequence_number);
        this.release();
        if (resp.command_status === 0) f.resolve(String(resp.message_id));
        else f.reject(new SmsRejected(resp.command_status));
      });
      if (!written) {
        this.release();
        return reject(new SmsNotSent());
      }
      const timer = setTimeout(() => {
        // No answer in time: the link is not trustworthy. Reset it; everything unanswered is in doubt.
        this.log(`no submit_sm_resp after ${this.options.responseTimeoutMs} ms: resetting the link`);
        session.destroy();
      }, this.options.responseTimeoutMs);
      timer.unref();
      this.inFlight.set(pdu.sequence_number, { resolve, reject, timer });
    });
  }

  async submit(message: SmsToSend): Promise<string[]> {
    const session = this.session;
    if (!session || !this.isBound) throw new SmsNotSent();
    const parts = splitSmsUcs2(message.text);
    const reference = concatReference(message.ref);
    const base = {
      source_addr_ton: 0x05,
      source_addr_npi: 0x00,
      source_addr: this.options.sourceAddr,
      dest_addr_ton: 0x01,
      dest_addr_npi: 0x01,
      destination_addr: `86${message.to}`,
      registered_delivery: REGISTERED_DELIVERY_FINAL,
      data_coding: DATA_CODING_UCS2,
      meterline_ref: message.ref,
    };
    // Parts go out in order, pipelined: all are written before the first response is awaited.
    const ids = parts.map((part, i) =>
      this.submitPart(session, {
        ...base,
        short_message:
          parts.length === 1
            ? { message: part }
            : { udh: concatUdh(reference, parts.length, i + 1), message: part },
      }),
    );
    const settled = await Promise.allSettled(ids);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) {
      // In doubt wins over refused: a part the SMSC may have must not be reported as never sent.
      const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
      throw (
        errors.find((e) => e instanceof SmsInDoubt) ??
        errors.find((e) => e instanceof SmsRejected) ??
        (settled.some((s) => s.status === 'fulfilled') ? new SmsInDoubt('some parts sent') : errors[0])
      );
    }
    return settled.map((s) => (s as PromiseFulfilledResult<string>).value);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const session = this.session;
    if (!session) return;
    await new Promise<void>((resolve) => {
      const done = setTimeout(() => {
        session.destroy();
        resolve();
      }, 1_000);
      session.once('close', () => {
        clearTimeout(done);
        resolve();
      });
      if (this.isBound) (session.unbind as (cb: () => void) => void)(() => session.close());
      else session.destroy();
    });
    this.isBound = false;
  }
}
