import { DEFAULT_SETTINGS, type SettingKey, type Settings, todayInChina } from '@meterline/domain';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';

const CACHE_MS = 5_000;
let cache: { at: number; db: unknown; values: Settings } | null = null;

/** Settings in force today: each key's newest version effective on or before today, else its default. */
export async function loadSettings(db: Kysely<DB>, onDate: string = todayInChina()): Promise<Settings> {
  const now = Date.now();
  if (cache && cache.db === db && now - cache.at < CACHE_MS && onDate === todayInChina()) return cache.values;
  const rows = await sql<{ key: string; value: unknown }>`
    select distinct on (key) key, value from setting
    where effective_from <= ${onDate}::date order by key, effective_from desc`.execute(db);
  const values = { ...DEFAULT_SETTINGS } as Settings;
  for (const row of rows.rows) {
    if (row.key in values) (values as Record<string, unknown>)[row.key] = row.value;
  }
  if (onDate === todayInChina()) cache = { at: now, db, values };
  return values;
}

export function invalidateSettings(): void {
  cache = null;
}

export async function setting<K extends SettingKey>(db: Kysely<DB>, key: K): Promise<Settings[K]> {
  return (await loadSettings(db))[key];
}
