/** A failed call to the admin API, with the hub's error code and request id when it sent them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

let csrfToken = '';
let onUnauthorized: () => void = () => undefined;

/** The session's CSRF token (from `GET /admin/api/me`), sent on every write. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Called when the session is gone (401 on any call but login): the console shows the login. */
export function whenUnauthorized(f: () => void): void {
  onUnauthorized = f;
}

type Query = Record<string, string | number | undefined>;

/** `path?query` with the empty values left out. */
export function withQuery(path: string, query: Query): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text === '' ? path : `${path}?${text}`;
}

function errorOf(status: number, data: unknown, statusText: string): ApiError {
  const e = (data as { error?: { code?: unknown; message?: unknown; requestId?: unknown } } | null)
    ?.error;
  const code = typeof e?.code === 'string' ? e.code : `HTTP_${status}`;
  const message =
    typeof e?.message === 'string' ? e.message : `the hub answered ${status} ${statusText}`.trim();
  return new ApiError(
    status,
    code,
    message,
    typeof e?.requestId === 'string' ? e.requestId : undefined,
  );
}

/**
 * Calls `/admin/api/<path>` with the session cookie; writes carry `x-csrf-token` (the browser
 * adds `Origin`). Resolves with the parsed JSON (undefined for 204); rejects with {@link ApiError}.
 */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/admin/api/${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'the hub could not be reached; check the connection');
  }
  const text = await res.text();
  let data: unknown;
  try {
    data = text === '' ? undefined : JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    if (res.status === 401 && path !== 'login') onUnauthorized();
    throw errorOf(res.status, data, res.statusText);
  }
  return data as T;
}
