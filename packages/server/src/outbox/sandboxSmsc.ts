import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { loadSettings } from '../platform/settings.ts';
import { SmppTestPeer } from './testPeer.ts';

const SANDBOX_ACCOUNT = { systemId: 'sandbox', password: 'sandbox' };

export interface SandboxSmsc {
  /** What the outbox sender binds to while smsc.sandbox is 1. */
  sender: { port: number; systemId: string; password: string };
  stop(): Promise<void>;
}

/**
 * The sandbox SMSC (docs/outbox.md): with `smsc.sandbox` = 1 when the server starts, a simulated
 * SMSC listens on a free local port inside the server process and the outbox sender binds to it
 * instead of `smsc.host` — SMS are submitted over real SMPP and answered with delivery receipts, but
 * reach no phone. The demo utility starts with it (like the sandbox payment gateway); production
 * sets `smsc.sandbox` = 0 and its SMSC's address. Changing the flag takes effect at the next start.
 */
export async function startSandboxSmsc(db: Kysely<DB>): Promise<SandboxSmsc | null> {
  const settings = await loadSettings(db);
  if (settings['smsc.sandbox'] !== 1) return null;
  // Nothing kept per SMS but the recent references it de-duplicates on: a server runs for months.
  const peer = new SmppTestPeer({ ...SANDBOX_ACCOUNT, record: false, rememberRefs: 100_000 });
  const port = await peer.start();
  return { sender: { port, ...SANDBOX_ACCOUNT }, stop: () => peer.stop() };
}
