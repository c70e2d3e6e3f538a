import { useMemo } from 'react';
import { useApi } from '../components/useApi';
import type { CalendarDay, CalendarYear } from '../reading/types';

/** The working-day calendar of a year, as a map by date, and whether the year is provisional. */
export function useCalendar(year: number) {
  const result = useApi<CalendarYear>('/api/calendar', { year });
  const days = useMemo(
    () => new Map<string, CalendarDay>((result.data?.days ?? []).map((d) => [d.day, d])),
    [result.data],
  );
  return {
    days,
    official: result.data?.official,
    loading: result.loading,
    error: result.error,
    reload: result.reload,
  };
}
