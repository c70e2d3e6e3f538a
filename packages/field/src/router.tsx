import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { updatePending } from './pwa';

/**
 * A tiny history router for the few screens of the handheld (the app is served under /field/,
 * and the service worker answers every /field/… page path with the app shell, also offline).
 */

export const BASE = '/field';

export type Screen =
  | { name: 'route' }
  | { name: 'meter'; key: string }
  | { name: 'sheet' }
  | { name: 'outbox' }
  | { name: 'me' }
  // Field collection (催缴): the day's list and one customer's visit form.
  | { name: 'collect' }
  | { name: 'visit'; key: string }
  // Shut-off / restore work orders and re-checks (停复水工单): the list, one order, one re-check.
  | { name: 'orders' }
  | { name: 'order'; key: string }
  | { name: 'recheck'; key: string };

export function parsePath(pathname: string): Screen {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const meter = /^\/meter\/(\d+:\d+)\/?$/.exec(decodeURIComponent(rest));
  if (meter) return { name: 'meter', key: meter[1]! };
  const visit = /^\/visit\/(\d+:\d+)\/?$/.exec(decodeURIComponent(rest));
  if (visit) return { name: 'visit', key: visit[1]! };
  const order = /^\/(order|recheck)\/((?:shutoff|restore|recheck):\d+:\d+)\/?$/.exec(
    decodeURIComponent(rest),
  );
  if (order) return { name: order[1] as 'order' | 'recheck', key: order[2]! };
  if (/^\/orders\/?$/.test(rest)) return { name: 'orders' };
  if (/^\/collect\/?$/.test(rest)) return { name: 'collect' };
  if (/^\/sheet\/?$/.test(rest)) return { name: 'sheet' };
  if (/^\/outbox\/?$/.test(rest)) return { name: 'outbox' };
  if (/^\/me\/?$/.test(rest)) return { name: 'me' };
  return { name: 'route' };
}

export function pathOf(screen: Screen): string {
  switch (screen.name) {
    case 'meter':
      return `${BASE}/meter/${screen.key}`;
    case 'visit':
      return `${BASE}/visit/${screen.key}`;
    case 'order':
    case 'recheck':
      return `${BASE}/${screen.name}/${screen.key}`;
    case 'route':
      return `${BASE}/`;
    default:
      return `${BASE}/${screen.name}`;
  }
}

interface RouterValue {
  screen: Screen;
  go(screen: Screen, opts?: { replace?: boolean }): void;
  back(): void;
}

const RouterContext = createContext<RouterValue | null>(null);

export function RouterProvider({ children }: { children: ReactNode }) {
  const [screen, setScreen] = useState<Screen>(() => parsePath(window.location.pathname));
  useEffect(() => {
    const onPop = () => setScreen(parsePath(window.location.pathname));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const go = useCallback((next: Screen, opts: { replace?: boolean } = {}) => {
    const path = pathOf(next);
    if (updatePending()) {
      // A new version of the app is installed: load it now, between two screens.
      window.location.assign(path);
      return;
    }
    if (opts.replace) window.history.replaceState(null, '', path);
    else if (path !== window.location.pathname) window.history.pushState(null, '', path);
    setScreen(next);
    window.scrollTo(0, 0);
  }, []);
  const back = useCallback(() => {
    if (window.history.length > 1) window.history.back();
    else go({ name: 'route' }, { replace: true });
  }, [go]);
  const value = useMemo(() => ({ screen, go, back }), [screen, go, back]);
  return <RouterContext.Provider value={value}>{children}</RouterContext.Provider>;
}

export function useRouter(): RouterValue {
  const value = useContext(RouterContext);
  if (!value) throw new Error('useRouter outside RouterProvider');
  return value;
}
