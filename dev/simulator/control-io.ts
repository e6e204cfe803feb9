import type { Context } from 'hono';
import { z } from 'zod';

/** A validated body, or the 400 response to send. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; response: Response };

/** 400 `{"error": …}`. */
export function badRequest(c: Context, error: string): Response {
  return c.json({ error }, 400);
}

/** Read the JSON body and validate it; a 400 response with a readable message on failure. */
export async function readBody<T>(c: Context, schema: z.ZodType<T>): Promise<Parsed<T>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await c.req.text());
  } catch {
    return { ok: false, response: badRequest(c, 'request body must be valid JSON') };
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    return { ok: false, response: badRequest(c, z.prettifyError(result.error)) };
  }
  return { ok: true, value: result.data };
}
