import type { Bilingual } from '@meterline/domain';
import { useEffect, useState } from 'react';
import { api } from '../api';

export interface UsageType {
  code: string;
  utility: string;
  name_zh: string;
  name_en: string;
  price_class: string;
  active: boolean;
  sort_order: number;
}

/** GET /api/meta: the code lists forms are built from. */
export interface Meta {
  states: string[];
  transitions: Record<string, string[]>;
  utilities: string[];
  calibersDn: number[];
  meterRoles: string[];
  mountings: string[];
  directions: string[];
  permissions: { code: string; label: Bilingual }[];
  usageTypes: UsageType[];
  icCardAboveFloor: number;
  defaultLowIncomeReductionM3: number;
  documentMaxBytes: number;
  /** Reading anomaly codes (meter stopped, no access…), when the server lists them. */
  anomalyCodes?: {
    code: string;
    name_zh?: string;
    name_en?: string;
    nameZh?: string;
    nameEn?: string;
    department?: string;
  }[];
  /** reading.dayStart / reading.uploadBy ("08:30"), when the server lists them. */
  readingDayStart?: string;
  readingUploadBy?: string;
}

let cached: Promise<Meta> | null = null;

/** Forget the cached code lists (after signing out, or when an admin changed them). */
export function clearMeta(): void {
  cached = null;
}

/** The code lists, loaded once per session. */
export function useMeta(): Meta | undefined {
  const [meta, setMeta] = useState<Meta | undefined>(undefined);
  useEffect(() => {
    let live = true;
    if (!cached) {
      cached = api<Meta>('/api/meta');
      cached.catch(() => {
        cached = null;
      });
    }
    cached.then((m) => live && setMeta(m)).catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  return meta;
}
