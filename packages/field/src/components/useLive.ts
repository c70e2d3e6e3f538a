import { liveQuery } from 'dexie';
import { type DependencyList, useEffect, useState, useSyncExternalStore } from 'react';
import { subscribeSync, syncState } from '../sync/sync';

/** The result of an IndexedDB query, kept current as the tables change (Dexie liveQuery). */
export function useLive<T>(query: () => Promise<T>, deps: DependencyList, initial: T): T {
  const [value, setValue] = useState<T>(initial);
  const subscribe = () => {
    const subscription = liveQuery(query).subscribe({
      next: (v) => setValue(v),
      error: (e) => console.warn('live query failed', e),
    });
    return () => subscription.unsubscribe();
  };
  // The caller lists what the query depends on (as with useMemo).
  // biome-ignore lint/correctness/useExhaustiveDependencies: the dependencies are the caller's.
  useEffect(subscribe, deps);
  return value;
}

/** Whether a sync runs now, and what the last one did. */
export function useSyncState() {
  return useSyncExternalStore(subscribeSync, syncState);
}

/** navigator.onLine, kept current. */
export function useOnline(): boolean {
  return useSyncExternalStore(
    (cb) => {
      window.addEventListener('online', cb);
      window.addEventListener('offline', cb);
      return () => {
        window.removeEventListener('online', cb);
        window.removeEventListener('offline', cb);
      };
    },
    () => navigator.onLine,
  );
}
