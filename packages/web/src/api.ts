import type { FormInstance } from 'antd';
import i18n from './i18n';

/** One field the server refused, with its path in the submitted object (e.g. `contacts.0.phone`). */
export interface FieldProblem {
  path: string;
  code: string;
  message: string;
}

/** An error reply from the API: `{ error: { code, message, fields? } }`, already in the UI language. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldProblem[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  query?: Query;
  /** JSON-encoded unless it is FormData. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

let unauthenticated: (() => void) | null = null;

/** Called when the session has ended (the server answered 401 UNAUTHENTICATED). */
export function onUnauthenticated(handler: (() => void) | null): void {
  unauthenticated = handler;
}

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

type ErrorReply = { error?: { code?: string; message?: string; fields?: FieldProblem[] } } | null;

/** The ApiError of an error reply's status and body (null: not JSON, a proxy's error page). */
function errorOf(status: number, body: ErrorReply): ApiError {
  const error = body?.error;
  return new ApiError(
    status,
    error?.code ?? `HTTP_${status}`,
    error?.message ?? i18n.t('errors.http', { status }),
    error?.fields ?? [],
  );
}

async function errorFrom(res: Response): Promise<ApiError> {
  let body: ErrorReply = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON (a proxy error page): fall through to a generic message.
  }
  return errorOf(res.status, body);
}

/** Calls the API with the session cookie; resolves to the parsed JSON or throws an ApiError. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  let body: BodyInit | undefined;
  if (options.body instanceof FormData) {
    body = options.body;
  } else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let res: Response;
  try {
    res = await fetch(withQuery(path, options.query), {
      method: options.method ?? 'GET',
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'NETWORK', i18n.t('errors.network'));
  }
  if (!res.ok) {
    const error = await errorFrom(res);
    if (error.status === 401 && error.code === 'UNAUTHENTICATED') unauthenticated?.();
    throw error;
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? res.json() : res.text()) as Promise<T>;
}

/**
 * Sends a file as `api` would (POST, FormData), telling `onProgress` the share of its bytes sent
 * (0–1) as they go: fetch cannot tell an upload's progress, XMLHttpRequest can.
 */
export function uploadWithProgress<T>(
  path: string,
  options: { query?: Query; body: FormData; onProgress: (sent: number) => void },
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', withQuery(path, options.query));
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.withCredentials = true;
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) options.onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', i18n.t('errors.network')));
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        // Not JSON (a proxy error page): the generic message below.
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body as T);
        return;
      }
      const apiError = errorOf(xhr.status, body as ErrorReply);
      if (apiError.status === 401 && apiError.code === 'UNAUTHENTICATED') unauthenticated?.();
      reject(apiError);
    };
    xhr.send(options.body);
  });
}

/** `contacts.0.phone` → ['contacts', 0, 'phone'] (antd form name path). */
export function namePath(path: string): (string | number)[] {
  return path.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/**
 * Puts the server's field errors on the matching form fields. Returns the problems no field of the
 * form shows, so the caller can display them elsewhere. `prefix` is stripped from server paths.
 */
export function applyFieldErrors(form: FormInstance, error: unknown, prefix = ''): FieldProblem[] {
  if (!(error instanceof ApiError) || error.fields.length === 0) return [];
  const names = form.getFieldsError().map((f) => f.name as (string | number)[]);
  const registered = new Set(names.map((n) => JSON.stringify(n)));
  const unmatched: FieldProblem[] = [];
  const byName = new Map<string, { name: (string | number)[]; errors: string[] }>();
  for (const field of error.fields) {
    const path = prefix && field.path.startsWith(prefix) ? field.path.slice(prefix.length) : field.path;
    let name = namePath(path);
    let key = JSON.stringify(name);
    if (!registered.has(key)) {
      // A path given relative to a nested part (`meterNo` for `meter.meterNo`): take the one field
      // whose name ends with it, if exactly one does.
      const tail = JSON.stringify(name).slice(1);
      const candidates = names.filter(
        (n) => n.length > name.length && JSON.stringify(n).endsWith(`,${tail}`),
      );
      if (candidates.length !== 1) {
        unmatched.push(field);
        continue;
      }
      name = candidates[0]!;
      key = JSON.stringify(name);
    }
    const entry = byName.get(key) ?? { name, errors: [] };
    entry.errors.push(field.message);
    byName.set(key, entry);
  }
  form.setFields([...byName.values()]);
  const first = byName.values().next().value;
  if (first) form.scrollToField(first.name, { block: 'center' });
  return unmatched;
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
