import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Context } from 'hono';

/** What @hono/node-server passes as `c.env`: the Node request behind the Web `Request`. */
interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

/**
 * One request header (`name` in lower case). On Node it is read straight from the incoming
 * message: asking `c.req.header()` makes @hono/node-server build a full Web `Headers` object,
 * which costs more than everything else a cached token read does. Elsewhere (SCF events, tests
 * calling `app.request`) it falls back to the Web request. Repeated headers are joined with ", "
 * as `Headers.get` does.
 */
export function requestHeader(c: Context, name: string): string | undefined {
  const incoming = (c.env as NodeBindings | undefined)?.incoming;
  if (incoming?.headers === undefined) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Sets a header on whatever response this request ends with. On Node it goes straight onto the
 * outgoing message (Node merges it into the head written later), which keeps @hono/node-server
 * on its fast path for plain responses; elsewhere it is `c.header()`.
 */
export function setResponseHeader(c: Context, name: string, value: string): void {
  const outgoing = (c.env as NodeBindings | undefined)?.outgoing;
  if (outgoing !== undefined && typeof outgoing.setHeader === 'function') {
    outgoing.setHeader(name, value);
  } else {
    c.header(name, value);
  }
}

/**
 * The CloudRun source header, `x-wx-source` (or `x-wx-sources`, as WeChat also spells it), when
 * it carries a value. Empty or blank counts as absent, and so do repeated blank headers (which
 * Node joins into `", "`).
 */
export function wxSourceHeader(c: Context): string | undefined {
  for (const name of ['x-wx-source', 'x-wx-sources']) {
    const value = requestHeader(c, name)?.trim();
    if (value !== undefined && /[^\s,]/.test(value)) return value;
  }
  return undefined;
}

/**
 * A way to hang up on the caller at once, when this request came over a real Node socket
 * (@hono/node-server): destroying the socket mid-body is how a caller learns that a streamed
 * answer was cut off, not complete. `undefined` elsewhere (SCF events, `app.request` in tests);
 * there an errored body stream has to say it.
 */
export function hangUpOf(c: Context): (() => void) | undefined {
  const socket = (c.env as NodeBindings | undefined)?.outgoing?.socket;
  if (!(socket instanceof Socket)) return undefined;
  return () => socket.destroy();
}

/**
 * The client's IP for the audit and lockout logs, at most 64 characters. The first entries of
 * `x-forwarded-for` are whatever the client sent; only the last one was appended by the proxy
 * nearest to us (CloudRun's ingress), so: on SCF the API gateway's `sourceIp` from the event
 * (serverless-http puts it on a stand-in socket); over a real socket the last `x-forwarded-for`
 * entry, else the socket's peer (no proxy in front).
 */
export function clientIp(c: Context): string | undefined {
  const socket = (c.env as NodeBindings | undefined)?.incoming?.socket;
  const peer = socket?.remoteAddress;
  if (socket !== undefined && !(socket instanceof Socket) && peer) return peer.slice(0, 64);
  const last = requestHeader(c, 'x-forwarded-for')?.split(',').at(-1)?.trim();
  if (last !== undefined && last !== '') return last.slice(0, 64);
  return peer?.slice(0, 64);
}
