import type { Permission } from '../org/roles.ts';

/** Customer states of DOMAIN.md §2. */
export const CUSTOMER_STATES = [
  'pending',
  'active',
  'vacant',
  'suspended',
  'sealed',
  'demolished',
  'closed',
] as const;
export type CustomerState = (typeof CUSTOMER_STATES)[number];

/**
 * Allowed transitions and the permission each needs.
 * - pending (awaiting connection / ignition) becomes active when connected, or closed if abandoned;
 * - suspended (报停, at the customer's request) and sealed (封停, by the utility) return to active;
 * - vacant (空房户) is confirmed long-term empty and returns to active when occupied;
 * - demolished (拆除户) can only be closed;
 * - closed (销户) is final: a reconnection is a new installation with a new account.
 */
export const STATE_TRANSITIONS: Record<CustomerState, Partial<Record<CustomerState, Permission>>> = {
  pending: { active: 'customer.state', closed: 'customer.close' },
  active: {
    vacant: 'customer.state',
    suspended: 'customer.state',
    sealed: 'customer.seal',
    demolished: 'customer.state',
    closed: 'customer.close',
  },
  vacant: { active: 'customer.state', demolished: 'customer.state', closed: 'customer.close' },
  suspended: { active: 'customer.state', sealed: 'customer.seal', closed: 'customer.close' },
  sealed: { active: 'customer.seal', demolished: 'customer.state', closed: 'customer.close' },
  demolished: { closed: 'customer.close' },
  closed: {},
};

export function allowedTransitions(from: CustomerState): CustomerState[] {
  return Object.keys(STATE_TRANSITIONS[from]) as CustomerState[];
}

/** The permission a transition needs, or null when the transition is not allowed at all. */
export function transitionPermission(from: CustomerState, to: CustomerState): Permission | null {
  return STATE_TRANSITIONS[from][to] ?? null;
}

/** States in which the customer receives supply and is expected to be read and billed. */
export function isConnected(state: CustomerState): boolean {
  return state !== 'pending' && state !== 'closed';
}
