import { useApi } from '../components/useApi';
import type { StaffOption } from './types';

/** Largest page of staff asked for: an office has a few dozen readers at most. */
const READERS_PAGE_SIZE = 200;

/** The meter readers of an office (needs staff.read; without it the list is empty). */
export function useReaders(officeId: number | undefined, enabled = true) {
  const result = useApi<{ items: StaffOption[] }>(officeId && enabled ? '/api/staff' : null, {
    officeId,
    roleCode: 'reader',
    pageSize: READERS_PAGE_SIZE,
  });
  const readers = (result.data?.items ?? []).filter((s) => s.active);
  return { readers, loading: result.loading, error: result.error };
}
