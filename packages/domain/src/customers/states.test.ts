import { describe, expect, it } from 'vitest';
import {
  allowedTransitions,
  CUSTOMER_STATES,
  isConnected,
  STATE_TRANSITIONS,
  transitionPermission,
} from './states.ts';

describe('customer state transitions (DOMAIN.md §2)', () => {
  it('closed (销户) is final: a reconnection is a new installation', () => {
    expect(allowedTransitions('closed')).toEqual([]);
    for (const to of CUSTOMER_STATES) expect(transitionPermission('closed', to)).toBeNull();
  });

  it('demolished (拆除户) can only be closed', () => {
    expect(allowedTransitions('demolished')).toEqual(['closed']);
  });

  it('sealing (封停) by the utility needs the seal permission, and so does restoring a sealed customer', () => {
    expect(transitionPermission('active', 'sealed')).toBe('customer.seal');
    expect(transitionPermission('sealed', 'active')).toBe('customer.seal');
  });

  it('closing an account always needs the close permission (deputy GM approves closures)', () => {
    for (const from of CUSTOMER_STATES) {
      const p = transitionPermission(from, 'closed');
      if (p !== null) expect(p).toBe('customer.close');
    }
  });

  it('a customer at their own request suspends (报停) and resumes; vacant (空房) returns to active when occupied', () => {
    expect(transitionPermission('active', 'suspended')).toBe('customer.state');
    expect(transitionPermission('suspended', 'active')).toBe('customer.state');
    expect(transitionPermission('vacant', 'active')).toBe('customer.state');
  });

  it('pending connection becomes active or is abandoned, never e.g. vacant', () => {
    expect(allowedTransitions('pending').sort()).toEqual(['active', 'closed']);
    expect(transitionPermission('pending', 'vacant')).toBeNull();
  });

  it('no state transitions to itself, and every target is a known state', () => {
    for (const from of CUSTOMER_STATES) {
      expect(transitionPermission(from, from)).toBeNull();
      for (const to of Object.keys(STATE_TRANSITIONS[from])) expect(CUSTOMER_STATES).toContain(to);
    }
  });

  it('every state except closed can still reach closed', () => {
    for (const start of CUSTOMER_STATES) {
      const seen = new Set([start]);
      const queue = [start];
      while (queue.length) {
        for (const next of allowedTransitions(queue.shift()!)) {
          if (!seen.has(next)) {
            seen.add(next);
            queue.push(next);
          }
        }
      }
      expect(seen.has('closed')).toBe(true);
    }
  });

  it('connected means receiving supply: not pending, not closed', () => {
    expect(isConnected('active')).toBe(true);
    expect(isConnected('vacant')).toBe(true);
    expect(isConnected('pending')).toBe(false);
    expect(isConnected('closed')).toBe(false);
  });
});
