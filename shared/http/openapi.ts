import { type JsonSchema, toJsonSchema } from '@valibot/to-json-schema';
import { CODE_TO_STATUS, type ErrorCode } from './errors';
import { ErrorEnvelope, type RouteDecl, type Schema } from './routes';

/**
 * The OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0) of declared routes: every
 * parameter, body, answer and error comes from the declarations in shared/http/routes.ts.
 * Built on request (`GET /openapi.json`, `npm run openapi`), never at start.
 */

type Json = Record<string, unknown>;

export interface DocumentInfo {
  title: string;
  version: string;
  description: string;
  /** Server URLs, first the preferred one. */
  servers: { url: string; description: string }[];
  tags: { name: string; description: string }[];
}

const JSON_TYPE = 'application/json';

/** JSON Schema 2020-12 (what OpenAPI 3.1 uses) of a schema, without its `$schema`. */
function jsonSchema(schema: Schema): Json {
  // `check` actions (custom rules) have no JSON Schema: their text is in the description.
  const { $schema: _, ...rest } = toJsonSchema(schema, {
    target: 'draft-2020-12',
    typeMode: 'input',
    errorMode: 'ignore',
  }) as JsonSchema & Json;
  return rest;
}

/** Path or query parameters from an object schema's properties. */
function parameters(schema: Schema | undefined, where: 'path' | 'query'): Json[] {
  if (schema === undefined) return [];
  const s = jsonSchema(schema) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => {
    const { description, ...rest } = prop;
    return {
      name,
      in: where,
      required: where === 'path' || (s.required ?? []).includes(name),
      ...(typeof description === 'string' && description !== '' ? { description } : {}),
      schema: rest,
    };
  });
}

/** `getV1AppsAppToken` from `GET /v1/apps/{app}/token`. */
function operationId(method: string, path: string): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter((w) => w !== '');
  return method.toLowerCase() + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

/** The error answers of a route by status: several codes can share one (409, 503). */
function errorResponses(decl: RouteDecl): Record<string, Json> {
  const codes = new Set<ErrorCode>(['UNAUTHORIZED', ...decl.errors, 'INTERNAL']);
  if (decl.body !== undefined || decl.rawBody !== undefined) codes.add('PAYLOAD_TOO_LARGE');
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = CODE_TO_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, Json> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    out[String(status)] = {
      description: list.map((c) => `\`${c}\``).join(', '),
      content: { [JSON_TYPE]: { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return out;
}

function operation(decl: RouteDecl, method: string): Json {
  const responses: Record<string, Json> = {};
  for (const [status, r] of Object.entries(decl.responses)) {
    const type = r.contentType ?? JSON_TYPE;
    responses[status] = {
      description: r.description,
      ...(r.headers === undefined
        ? {}
        : {
            headers: Object.fromEntries(
              Object.entries(r.headers).map(([name, description]) => [
                name,
                { description, schema: { type: 'string' } },
              ]),
            ),
          }),
      ...(r.schema === undefined && r.contentType === undefined
        ? {}
        : { content: { [type]: { schema: r.schema === undefined ? {} : jsonSchema(r.schema) } } }),
    };
  }
  const hasBody = method !== 'get' && method !== 'delete';
  return {
    operationId: operationId(method, decl.path),
    summary: decl.summary,
    ...(decl.description === undefined ? {} : { description: decl.description }),
    tags: [decl.tag],
    parameters: [...parameters(decl.params, 'path'), ...parameters(decl.query, 'query')],
    ...(decl.body !== undefined
      ? {
          requestBody: {
            required: true,
            content: { [JSON_TYPE]: { schema: jsonSchema(decl.body) } },
          },
        }
      : decl.rawBody !== undefined && hasBody
        ? {
            requestBody: {
              required: false,
              description: decl.rawBody,
              content: { '*/*': { schema: {} } },
            },
          }
        : {}),
    responses: { ...responses, ...errorResponses(decl) },
  };
}

/** The document of `routes` (one path item per path, one operation per method). */
export function buildOpenApi(routes: readonly RouteDecl[], info: DocumentInfo): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const decl of routes) {
    const item = paths[decl.path] ?? {};
    const methods = decl.method === 'ANY' ? (decl.methods ?? ['GET', 'POST']) : [decl.method];
    for (const m of methods) {
      const method = m.toLowerCase();
      if (item[method] !== undefined) throw new Error(`${m} ${decl.path} is declared twice`);
      item[method] = operation(decl, method);
    }
    paths[decl.path] = item;
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, description: info.description },
    servers: info.servers,
    security: [{ bearer: [] }],
    tags: info.tags,
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A key from `WXHUB_API_KEYS` (or, on WeChat CloudRun with ' +
            "`WXHUB_TRUST_WX_SOURCE=1`, the platform's `x-wx-source` header instead).",
        },
      },
      schemas: { Error: jsonSchema(ErrorEnvelope) },
    },
  };
}
