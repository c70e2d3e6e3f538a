import type { Permission } from '@meterline/domain';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiError, api, onUnauthenticated } from '../api';
import { clearMeta } from '../components/meta';

export interface OfficeRef {
  officeId: number;
  code: string;
  name: string;
}

/** GET /api/auth/me */
export interface Me {
  staffId: number;
  username: string;
  fullName: string;
  roleCode: string;
  permissions: string[];
  orgWide: boolean;
  offices: OfficeRef[];
  homeOfficeId: number | null;
  mustChangePassword: boolean;
}

interface AuthValue {
  /** undefined while loading, null when signed out. */
  me: Me | null | undefined;
  /** The session ended because the user signed out (not because it expired). */
  signedOut: boolean;
  login(username: string, password: string): Promise<Me>;
  logout(): Promise<void>;
  refresh(): Promise<Me | null>;
  can(permission: Permission): boolean;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [signedOut, setSignedOut] = useState(false);

  const refresh = useCallback(async () => {
    try {
      const value = await api<Me>('/api/auth/me');
      setMe(value);
      return value;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        setMe(null);
        return null;
      }
      throw e;
    }
  }, []);

  useEffect(() => {
    refresh().catch(() => setMe(null));
    onUnauthenticated(() => setMe(null));
    return () => onUnauthenticated(null);
  }, [refresh]);

  const login = useCallback(
    async (username: string, password: string) => {
      await api('/api/auth/login', { method: 'POST', body: { username, password } });
      clearMeta();
      setSignedOut(false);
      const value = await refresh();
      if (!value) throw new Error('signed in but no session');
      return value;
    },
    [refresh],
  );

  const logout = useCallback(async () => {
    try {
      await api('/api/auth/logout', { method: 'POST' });
    } finally {
      clearMeta();
      setSignedOut(true);
      setMe(null);
    }
  }, []);

  const value = useMemo<AuthValue>(
    () => ({
      me,
      signedOut,
      login,
      logout,
      refresh,
      can: (permission) => !!me?.permissions.includes(permission),
    }),
    [me, signedOut, login, logout, refresh],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth outside AuthProvider');
  return value;
}

/** The signed-in staff member (only inside the signed-in layout). */
export function useMe(): Me {
  const { me } = useAuth();
  if (!me) throw new Error('useMe without a session');
  return me;
}
