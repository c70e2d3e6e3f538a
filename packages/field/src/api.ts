import i18n from './i18n';

/** An error reply from the API (`{ error: { code, message, fields?, … } }`), or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The whole `error` object of the reply, for codes that carry more (UPLOAD_FIRST lists meters). */
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** No answer from the server at all: offline, DNS, a dropped connection. */
  get isNetwork(): boolean {
    return this.status === 0;
  }
}

let unauthenticated: (() => void) | null = null;

/** Called when the server answers 401 UNAUTHENTICATED (the session has ended). */
export function onUnauthenticated(handler: (() => void) | null): void {
  unauthenticated = handler;
}

/** Bounds every request: a phone on a weak signal must not hang a sync for minutes. */
export const REQUEST_TIMEOUT_MS = 30_000;

export async function api<T>(
  path: string,
  options: { method?: 'GET' | 'POST'; body?: unknown; timeoutMs?: number } = {},
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? REQUEST_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(path, {
      method: options.method ?? 'GET',
      headers: {
        Accept: 'application/json',
        ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: controller.signal,
    });
  } catch {
    throw new ApiError(0, 'NETWORK', i18n.t('errors.network'));
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok) {
    let error: Record<string, unknown> = {};
    try {
      const body = (await res.json()) as { error?: Record<string, unknown> };
      error = body.error ?? {};
    } catch {
      // not JSON (a proxy's error page)
    }
    const code = typeof error.code === 'string' ? error.code : `HTTP_${res.status}`;
    const message =
      typeof error.message === 'string' ? error.message : i18n.t('errors.http', { status: res.status });
    if (res.status === 401 && code === 'UNAUTHENTICATED') unauthenticated?.();
    throw new ApiError(res.status, code, message, error);
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** A v4 UUID; crypto.randomUUID exists only in secure contexts, getRandomValues everywhere. */
export function newUuid(): string {
  if (typeof crypto.randomUUID === 'function' && window.isSecureContext) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
