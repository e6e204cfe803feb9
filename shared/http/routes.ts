import type { Context, Hono } from 'hono';
import * as v from 'valibot';
import type { HubEnv } from './app';
import { requestText } from './body';
import { AppError, type ErrorCode } from './errors';

/**
 * One declaration per internal route: method, path, parameters, body, answers and the error codes
 * it can answer. The same declaration validates the request ({@link mount}) and documents the
 * route (`GET /openapi.json`, built from every declaration by shared/http/openapi.ts). Schemas are
 * valibot's (https://valibot.dev), small and cheap to load.
 */

export type Schema = v.GenericSchema;
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One answer of a route: JSON by default, or `contentType` (the proxies' bytes). */
export interface ResponseDecl {
  description: string;
  schema?: Schema;
  contentType?: string;
  /** Answer headers worth naming, with their meaning. */
  headers?: Readonly<Record<string, string>>;
}

export interface RouteDecl<
  P extends Schema | undefined = Schema | undefined,
  Q extends Schema | undefined = Schema | undefined,
  B extends Schema | undefined = Schema | undefined,
> {
  /** `ANY` matches every method (the proxies); {@link RouteDecl.methods} lists those documented. */
  method: HttpMethod | 'ANY';
  methods?: readonly HttpMethod[];
  /** OpenAPI style: `/v1/apps/{app}/token`. */
  path: `/v1/${string}` | '/v1';
  /** The path parameter that spans segments (`{path}` of the proxies: `v3/pay/…`). */
  wildcard?: string;
  summary: string;
  description?: string;
  tag: string;
  /** An object schema of the path parameters (decoded). */
  params?: P;
  /** An object schema of the query parameters (the first value of each). */
  query?: Q;
  /** The JSON body. */
  body?: B;
  /** Parses the body's text (throws when it is not JSON); `JSON.parse` unless given. */
  bodyJson?: (text: string) => unknown;
  /** A body the route passes on as it is (the proxies): documented, never read here. */
  rawBody?: string;
  responses: Readonly<Record<number, ResponseDecl>>;
  /** The error codes it can answer besides 401 and 413 (every internal route can). */
  errors: readonly ErrorCode[];
}

type Out<S> = [S] extends [Schema] ? v.InferOutput<S> : undefined;

/** What a declared route's handler receives, validated. */
export interface RouteInput<P, Q, B> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
}

export type RouteHandler<P, Q, B> = (
  c: Context<HubEnv>,
  input: RouteInput<P, Q, B>,
) => Response | Promise<Response>;

/** Types a declaration (the identity at run time). */
export function declareRoute<
  P extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  B extends Schema | undefined = undefined,
>(decl: RouteDecl<P, Q, B>): RouteDecl<P, Q, B> {
  return decl;
}

/** The Hono path of a declaration: `{app}` → `:app`, the wildcard → `:path{.+}`. */
export function honoPath(decl: Pick<RouteDecl, 'path' | 'wildcard'>): string {
  return decl.path.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) =>
    name === decl.wildcard ? `:${name}{.+}` : `:${name}`,
  );
}

/** Issues built by the default message (no custom one): their message is prefixed with the field. */
const defaulted = new WeakSet<object>();
const config: v.Config<v.BaseIssue<unknown>> = {
  abortEarly: true,
  message: (issue) => {
    defaulted.add(issue);
    // A missing key (the object schema's issue, with the key's path), else what was expected;
    // never the received value: it may be a token or a secret.
    if (issue.input === undefined && issue.path !== undefined) return 'is required';
    if (issue.expected !== null) return `must be ${issue.expected}`;
    // An action without an expectation of its own (`integer`, `iso_timestamp`) names itself.
    return issue.type === 'check' ? 'is invalid' : `must be ${issue.type.replace(/_/g, ' ')}`;
  },
};

/** A valibot issue as one line naming the field: `query parameter url must be string`. */
function issueMessage(where: string, issue: v.BaseIssue<unknown>): string {
  if (!defaulted.has(issue)) return issue.message;
  const key = (issue.path ?? []).map((p) => String(p.key)).join('.');
  const field = key === '' ? where : `${where} ${key}`;
  return `${field} ${issue.message}`;
}

function validate<S extends Schema>(schema: S, value: unknown, where: string): v.InferOutput<S> {
  const r = v.safeParse(schema, value, config);
  if (r.success) return r.output;
  const [issue] = r.issues;
  throw new AppError('BAD_REQUEST', issueMessage(where, issue));
}

/** An object schema whose every entry is a string schema with no check (descriptions only). */
function anyString(schema: Schema): boolean {
  type Entry = { type: string; pipe?: readonly { kind: string }[] };
  const entries = (schema as { entries?: Record<string, Entry> }).entries;
  if (schema.type !== 'object' || entries === undefined) return false;
  return Object.values(entries).every(
    (e) => e.type === 'string' && (e.pipe ?? []).every((a, i) => i === 0 || a.kind === 'metadata'),
  );
}

/** What {@link readBody} answers for a body that is not JSON: the body schema refuses it. */
const NOT_JSON = Symbol('not JSON');

/** The body as JSON, or {@link NOT_JSON}. */
async function readBody(c: Context<HubEnv>, parse: (text: string) => unknown): Promise<unknown> {
  const text = await requestText(c);
  try {
    return parse(text);
  } catch {
    return NOT_JSON;
  }
}

/**
 * Registers a declared route on `router`: path parameters and query are checked before the
 * handler runs (synchronously: a route without a body answers without a promise of its own when
 * its handler does), then the body; bad input is a 400 `BAD_REQUEST` naming the field.
 */
export function mount<
  P extends Schema | undefined,
  Q extends Schema | undefined,
  B extends Schema | undefined,
>(router: Hono<HubEnv>, decl: RouteDecl<P, Q, B>, handler: RouteHandler<P, Q, B>): void {
  const { params, query, body } = decl;
  const how = decl.bodyJson ?? JSON.parse;
  // Hono hands over decoded strings: parameters that take any string need no check, which keeps
  // a cached token read at a few microseconds.
  const readParams: (c: Context<HubEnv>) => Out<P> =
    params === undefined
      ? () => undefined as Out<P>
      : anyString(params)
        ? (c) => c.req.param() as Out<P>
        : (c) => validate(params, c.req.param(), 'path parameter') as Out<P>;
  const readQuery = (c: Context<HubEnv>) =>
    (query === undefined ? undefined : validate(query, c.req.query(), 'query parameter')) as Out<Q>;
  const route =
    body === undefined
      ? (c: Context<HubEnv>) =>
          handler(c, { params: readParams(c), query: readQuery(c), body: undefined as Out<B> })
      : async (c: Context<HubEnv>) => {
          const params = readParams(c);
          const query = readQuery(c);
          const parsed = validate(body, await readBody(c, how), 'body') as Out<B>;
          return handler(c, { params, query, body: parsed });
        };
  router.on(decl.method === 'ANY' ? 'ALL' : decl.method, honoPath(decl), route);
}

/** The error envelope every internal route answers an error in. */
export const ErrorEnvelope = v.object({
  error: v.looseObject({
    code: v.pipe(v.string(), v.description('SCREAMING_SNAKE error code')),
    message: v.pipe(v.string(), v.description('what went wrong, for a person')),
    requestId: v.pipe(v.string(), v.description('the x-request-id of this request')),
    errcode: v.optional(v.pipe(v.number(), v.description("WeChat's errcode (502)"))),
  }),
});
