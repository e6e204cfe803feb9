/**
 * A refusal or failure of the hub: its error envelope's `code` and `message` (docs/api.md,
 * Errors), the request id it logged the request under, and the HTTP status. `errcode` is
 * WeChat's, when the hub says WeChat answered with an error (`UPSTREAM_WECHAT`).
 *
 * Two codes are the client's own, never the hub's: `UNREACHABLE` (no answer: status 0) and
 * `UNEXPECTED_ANSWER` (an answer without the hub's envelope, e.g. from a proxy in front of it).
 * Messages carry no key or token: the hub's never do, and the client's name only the hub's origin.
 */
export class WxhubError extends Error {
  override name = 'WxhubError';
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly requestId: string | undefined,
    readonly errcode?: number,
  ) {
    super(message);
  }
}

interface Envelope {
  error: { code: string; message: string; requestId?: string; errcode?: number };
}

function isEnvelope(body: unknown): body is Envelope {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const e: unknown = body.error;
  return (
    typeof e === 'object' &&
    e !== null &&
    'code' in e &&
    typeof e.code === 'string' &&
    'message' in e &&
    typeof e.message === 'string'
  );
}

/** The error a non-2xx answer of the hub stands for; `body` is its parsed JSON (or its text). */
export function errorFromAnswer(response: Response, body: unknown): WxhubError {
  const headerId = response.headers.get('x-request-id') ?? undefined;
  if (isEnvelope(body)) {
    const { code, message, requestId, errcode } = body.error;
    return new WxhubError(
      code,
      message,
      response.status,
      requestId ?? headerId,
      typeof errcode === 'number' ? errcode : undefined,
    );
  }
  const type = response.headers.get('content-type') ?? 'no content type';
  return new WxhubError(
    'UNEXPECTED_ANSWER',
    `the hub answered ${response.status} (${type}) without its error envelope`,
    response.status,
    headerId,
  );
}

/** The error of a request that got no answer (refused connection, DNS, reset, abort). */
export function unreachable(baseUrl: string, cause: unknown): WxhubError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const err = new WxhubError(
    'UNREACHABLE',
    `no answer from the hub at ${new URL(baseUrl).origin}: ${reason}`,
    0,
    undefined,
  );
  err.cause = cause;
  return err;
}

/** True when `response` is a refusal of the hub itself (its JSON error envelope), not WeChat's. */
export async function hubRefusal(response: Response): Promise<WxhubError | undefined> {
  if (response.ok) return undefined;
  if (!(response.headers.get('content-type') ?? '').includes('json')) return undefined;
  let body: unknown;
  try {
    body = await response.clone().json();
  } catch {
    return undefined;
  }
  return isEnvelope(body) ? errorFromAnswer(response, body) : undefined;
}
