import type { CustomerState } from '../customers/states.ts';

/**
 * Customers to read this month (应抄表客户, DOMAIN.md §2–3): connected customers − vacant −
 * demolished − suspended − sealed − those connected this month.
 */
export interface CustomerForReading {
  state: CustomerState;
  /** Date of connection (通水), YYYY-MM-DD; null when not yet connected. */
  connectedOn: string | null;
}

const NOT_READ: ReadonlySet<CustomerState> = new Set([
  'pending',
  'closed',
  'vacant',
  'demolished',
  'suspended',
  'sealed',
]);

export function isToRead(c: CustomerForReading, month: string): boolean {
  if (NOT_READ.has(c.state)) return false;
  if (c.connectedOn === null) return false;
  // Connected this month (or later): the first reading comes next cycle.
  return c.connectedOn.slice(0, 7) < month;
}

export function customersToRead<T extends CustomerForReading>(customers: T[], month: string): T[] {
  return customers.filter((c) => isToRead(c, month));
}
