import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api, type Query } from '../api';

export interface ApiState<T> {
  data: T | undefined;
  loading: boolean;
  error: ApiError | null;
  reload: () => void;
}

/**
 * Loads `path` (with `query`) and reloads when either changes; a later request wins over an
 * earlier one still in flight. A null path loads nothing.
 */
export function useApi<T>(path: string | null, query?: Query): ApiState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [loading, setLoading] = useState(path !== null);
  const [error, setError] = useState<ApiError | null>(null);
  const [tick, setTick] = useState(0);
  const key = path === null ? null : JSON.stringify([path, query ?? {}]);
  // The request the data answers: until the answer for the current key arrives, it is loading.
  const [answered, setAnswered] = useState<string | null>(null);
  const latest = useRef(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for path and query.
  useEffect(() => {
    if (path === null) {
      setLoading(false);
      return;
    }
    const controller = new AbortController();
    const ticket = ++latest.current;
    setLoading(true);
    api<T>(path, { query, signal: controller.signal })
      .then((value) => {
        if (ticket !== latest.current) return;
        setData(value);
        setError(null);
        setAnswered(key);
      })
      .catch((e: unknown) => {
        if (ticket !== latest.current || (e as Error).name === 'AbortError') return;
        setError(e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e)));
        setAnswered(key);
      })
      .finally(() => {
        if (ticket === latest.current) setLoading(false);
      });
    return () => controller.abort();
  }, [key, tick]);

  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, loading: loading || (key !== null && answered !== key), error, reload };
}
