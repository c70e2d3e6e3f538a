import type { DeliveryReceipt } from '@meterline/domain';
import { afterEach, describe, expect, it } from 'vitest';
import { SmppTransport, SmsInDoubt, SmsNotSent, SmsRejected } from './smpp.ts';
import { SmppTestPeer } from './testPeer.ts';

/** The SMPP transport against the local peer (no database): encoding, parts, receipts, links. */

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

async function setup(
  peerOptions: ConstructorParameters<typeof SmppTestPeer>[0] = {},
  over: Partial<ConstructorParameters<typeof SmppTransport>[0]> = {},
) {
  const peer = new SmppTestPeer(peerOptions);
  await peer.start(0);
  open.push({ close: () => peer.stop() });
  const receipts: DeliveryReceipt[] = [];
  const transport = new SmppTransport({
    host: '127.0.0.1',
    port: peer.port,
    systemId: 'meterline',
    password: 'secret',
    sourceAddr: '10690000',
    windowSize: 10,
    responseTimeoutMs: 5_000,
    reconnectBaseMs: 20,
    reconnectCapMs: 200,
    onReceipt: async (r) => {
      receipts.push(r);
    },
    ...over,
  });
  open.push(transport);
  return { peer, transport, receipts };
}

async function until(what: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('SmppTransport against the local SMSC peer', () => {
  it('sends a Chinese SMS in UCS2, gets the SMSC id and its delivery receipt', async () => {
    const { peer, transport, receipts } = await setup();
    await transport.waitBound(3_000);
    const text = '【城市供水】尊敬的用户，您本期水费 56.30 元，请于 11 月 30 日前缴纳。';
    const ids = await transport.submit({ ref: '1-1', to: '13812345678', text });
    expect(ids).toHaveLength(1);
    expect(peer.submits[0]).toMatchObject({ ref: '1-1', to: '8613812345678', text, messageId: ids[0] });
    await until(() => receipts.length === 1);
    expect(receipts[0]).toMatchObject({ smscMessageId: ids[0], stat: 'DELIVRD' });
  });

  it('splits a long Chinese text into concatenated parts the peer reassembles', async () => {
    const { peer, transport, receipts } = await setup();
    await transport.waitBound(3_000);
    const text = `${'您的账户已欠费，请尽快缴纳水费以免影响正常用水。'.repeat(7)}谢谢！`;
    expect(text.length).toBeGreaterThan(134);
    const ids = await transport.submit({ ref: '1-2', to: '13912345678', text });
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    expect(peer.submits.map((s) => [s.part, s.parts])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(peer.delivered().get('1-2')).toEqual({ to: '8613912345678', text, parts: 3 });
    await until(() => receipts.length === 3);
  });

  it('reports an explicit refusal as rejected', async () => {
    const { transport } = await setup({ rejectTo: ['8613800000000'] });
    await transport.waitBound(3_000);
    await expect(transport.submit({ ref: '1-3', to: '13800000000', text: '测试' })).rejects.toBeInstanceOf(
      SmsRejected,
    );
  });

  it('a link dropped mid-batch: the unanswered are in doubt, resent with the same reference, delivered once', async () => {
    const { peer, transport, receipts } = await setup();
    await transport.waitBound(3_000);
    peer.dropOnSubmit(6);
    const messages = Array.from({ length: 12 }, (_, i) => ({
      ref: `9-${i}`,
      to: '13712345678',
      text: `第 ${i} 条催缴短信`,
    }));
    const first = await Promise.allSettled(messages.map((m) => transport.submit(m)));
    const doubtful = messages.filter((_, i) => first[i]!.status === 'rejected');
    expect(doubtful.length).toBeGreaterThan(0);
    // Written and unanswered: in doubt; still waiting for a window slot: known not sent.
    const reasons = first.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    expect(reasons.filter((e) => e instanceof SmsInDoubt).length).toBeGreaterThanOrEqual(1);
    for (const e of reasons) expect(e instanceof SmsInDoubt || e instanceof SmsNotSent, e.message).toBe(true);
    // Reconnects after the back-off, then the doubtful go again with their own references.
    await transport.waitBound(3_000);
    expect(transport.stats.connects).toBeGreaterThanOrEqual(2);
    for (const m of doubtful) await transport.submit(m);
    expect(peer.delivered().size).toBe(12);
    expect(peer.duplicates).toBeGreaterThanOrEqual(1); // the 6th was accepted before the drop
    await until(() => new Set(receipts.map((r) => r.smscMessageId)).size === 12);
  });

  it('an SMSC that is down: no bind, reconnects with growing back-off, binds once it is up', async () => {
    const peer = new SmppTestPeer();
    const port = await peer.start(0);
    await peer.stop();
    const transport = new SmppTransport({
      host: '127.0.0.1',
      port,
      systemId: 'meterline',
      password: 'secret',
      sourceAddr: '10690000',
      windowSize: 5,
      responseTimeoutMs: 5_000,
      reconnectBaseMs: 10,
      reconnectCapMs: 80,
      onReceipt: async () => {},
    });
    open.push(transport);
    await until(() => transport.stats.reconnectDelaysMs.length >= 5);
    expect(transport.bound).toBe(false);
    expect(transport.stats.reconnectDelaysMs.slice(0, 5)).toEqual([10, 20, 40, 80, 80]);
    await peer.start(port);
    open.push({ close: () => peer.stop() });
    await transport.waitBound(3_000);
    await transport.submit({ ref: '2-1', to: '13612345678', text: '恢复' });
    expect(peer.delivered().size).toBe(1);
  });

  it('wrong credentials: never bound', async () => {
    const { transport, peer } = await setup({}, { password: 'wrong' });
    await until(() => transport.stats.connects >= 2);
    expect(transport.bound).toBe(false);
    expect(peer.binds).toBe(0);
  });

  it('the sandbox SMSC keeps nothing per SMS but its recent references: memory does not grow with the outbox', async () => {
    const { peer, transport, receipts } = await setup({ record: false, rememberRefs: 2 });
    await transport.waitBound(3_000);
    const first = await transport.submit({ ref: 'a', to: '13812345678', text: '一' });
    await transport.submit({ ref: 'b', to: '13812345678', text: '二' });
    const c = await transport.submit({ ref: 'c', to: '13812345678', text: '三' });
    // A resubmit of a remembered reference is answered with its first id and not delivered again.
    expect(await transport.submit({ ref: 'c', to: '13812345678', text: '三' })).toEqual(c);
    // 'a' is forgotten (only two remembered): taken as new.
    expect(await transport.submit({ ref: 'a', to: '13812345678', text: '一' })).not.toEqual(first);
    expect(peer.received).toBe(5);
    expect(peer.submits).toEqual([]);
    expect([...peer.delivered().keys()].sort()).toEqual(['a', 'c']);
    await until(() => receipts.length === 4);
  });
});
