import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { ApiError, api, onUnauthenticated } from '../api';
import { db, getMeta, setMeta } from '../db';

/** GET /api/auth/me (the fields the handheld uses). */
export interface Me {
  staffId: number;
  username: string;
  fullName: string;
  roleCode: string;
  permissions: string[];
}

interface AuthValue {
  /** undefined while loading, null when signed out. */
  me: Me | null | undefined;
  /** Signed in from the copy kept on the device (the server could not be reached). */
  offline: boolean;
  login(username: string, password: string): Promise<Me>;
  logout(): Promise<void>;
  /** The server said the session ended: sign in again (the outbox is kept). */
  expired: boolean;
}

const ME_KEY = 'me';
const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [offline, setOffline] = useState(false);
  const [expired, setExpired] = useState(false);
  const hadSession = useRef(false);
  hadSession.current = !!me;

  const refresh = useCallback(async (): Promise<Me | null> => {
    try {
      const value = await api<Me>('/api/auth/me');
      await setMeta(ME_KEY, value);
      setOffline(false);
      setMe(value);
      return value;
    } catch (e) {
      if (e instanceof ApiError && e.isNetwork) {
        // No network: the reader works from the copy kept at the last sign-in.
        const cached = await getMeta<Me>(ME_KEY);
        setOffline(!!cached);
        setMe(cached ?? null);
        return cached ?? null;
      }
      if (e instanceof ApiError && e.status === 401) {
        setMe(null);
        return null;
      }
      throw e;
    }
  }, []);

  useEffect(() => {
    refresh().catch(() => setMe(null));
    onUnauthenticated(() => {
      // Only a session that was there can expire (the first check before signing in is a 401 too).
      if (hadSession.current) setExpired(true);
      setMe(null);
    });
    const onOnline = () => {
      // Back online after starting offline: make sure the session is still good.
      refresh().catch(() => undefined);
    };
    window.addEventListener('online', onOnline);
    return () => {
      onUnauthenticated(null);
      window.removeEventListener('online', onOnline);
    };
  }, [refresh]);

  const login = useCallback(
    async (username: string, password: string) => {
      await api('/api/auth/login', { method: 'POST', body: { username, password } });
      const value = await refresh();
      if (!value) throw new Error('signed in but no session');
      const previous = await getMeta<string>('username');
      if (previous && previous !== value.username) {
        // Another reader on this phone: the route was the previous reader's. Their readings stay in
        // the outbox and upload only under their own session (each carries its reader).
        await db.transaction('rw', [db.meters, db.books, db.thresholds], async () => {
          await db.meters.clear();
          await db.books.clear();
          await db.thresholds.clear();
        });
        await setMeta('workDate', null);
      }
      await setMeta('username', value.username);
      setExpired(false);
      return value;
    },
    [refresh],
  );

  const logout = useCallback(async () => {
    try {
      await api('/api/auth/logout', { method: 'POST' });
    } finally {
      await db.meta.delete(ME_KEY);
      setMe(null);
    }
  }, []);

  const value = useMemo<AuthValue>(
    () => ({ me, offline, expired, login, logout }),
    [me, offline, expired, login, logout],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth outside AuthProvider');
  return value;
}

export function useMe(): Me {
  const { me } = useAuth();
  if (!me) throw new Error('useMe without a session');
  return me;
}
