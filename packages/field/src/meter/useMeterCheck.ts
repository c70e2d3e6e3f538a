import {
  checkReading,
  type ReadingCheck,
  type ReadingThresholds,
} from '@meterline/domain/metering/readingCheck';
import { useMemo } from 'react';
import type { StoredMeter } from '../db';

/** At most three decimals, no sign: what a register shows. */
const INDEX_PATTERN = /^\d{1,12}(\.\d{1,3})?$/;

export type IndexCheck =
  | { kind: 'empty' }
  | { kind: 'invalid'; reason: 'format' | 'dial'; dialDigits: number }
  | ({ kind: 'ok' } & ReadingCheck);

/** The index as the reader types it, checked with the rule of the server (checkReading). */
export function checkIndex(meter: StoredMeter, text: string, thresholds: ReadingThresholds): IndexCheck {
  const value = text.trim();
  if (value === '') return { kind: 'empty' };
  if (!INDEX_PATTERN.test(value)) return { kind: 'invalid', reason: 'format', dialDigits: meter.dialDigits };
  try {
    return {
      kind: 'ok',
      ...checkReading(
        {
          previousIndex: meter.previousIndex,
          index: value,
          dialDigits: meter.dialDigits,
          expectedM3: meter.expectedM3,
        },
        thresholds,
      ),
    };
  } catch {
    return { kind: 'invalid', reason: 'dial', dialDigits: meter.dialDigits };
  }
}

export function useIndexCheck(
  meter: StoredMeter | null | undefined,
  text: string,
  thresholds: ReadingThresholds,
) {
  return useMemo<IndexCheck>(
    () => (meter ? checkIndex(meter, text, thresholds) : { kind: 'empty' }),
    [meter, text, thresholds],
  );
}
