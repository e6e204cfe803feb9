import { isLosslessNumber, isSafeNumber, LosslessNumber, parse, stringify } from 'lossless-json';
import { isBranded } from '../http/errors';

/**
 * JSON as WeChat and WeChat Pay send it, read without losing a digit. WeChat sends 64-bit ids as
 * bare numbers (`"MsgId": 23456789012345678` in a JSON push, `msgid` of a subscribe message):
 * `JSON.parse` rounds them to the nearest double, so two different messages would share one id.
 * Here a number that a double cannot hold exactly stays a {@link LosslessNumber} (its exact text),
 * and {@link stringifyExactJson} writes it back digit for digit.
 *
 * @example
 * const push = parseExactJson('{"MsgId":23456789012345678}') as { MsgId: unknown };
 * numberText(push.MsgId); // '23456789012345678'
 * stringifyExactJson(push); // '{"MsgId":23456789012345678}'
 */

/** Nesting deeper than this is refused: WeChat's bodies are a few levels deep. */
export const MAX_JSON_DEPTH = 64;

const EXACT_JSON_ERROR = Symbol.for('wxhub.ExactJsonError');

/** The text is not JSON, or nests deeper than {@link MAX_JSON_DEPTH}. */
export class ExactJsonError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, EXACT_JSON_ERROR);
  }
  readonly [EXACT_JSON_ERROR] = true;
  override name = 'ExactJsonError';
  constructor(
    readonly reason: 'syntax' | 'depth',
    message: string,
  ) {
    super(message);
  }
}

// A number with 16 or more digits in a row, or an exponent, may not survive a double: those
// bodies take the exact (slower) parser; every other body is read by the native one.
const MAY_LOSE = /\d{16}|\d[eE]/;

/** How deep objects and arrays nest, strings skipped; stops counting past `limit`. */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

const exactNumber = (text: string): number | LosslessNumber =>
  isSafeNumber(text) ? Number(text) : new LosslessNumber(text);

/**
 * Parses JSON keeping every number exact (see above). Object keys such as `__proto__` become
 * own properties, as with `JSON.parse`.
 *
 * @throws ExactJsonError when the text is not JSON or nests deeper than {@link MAX_JSON_DEPTH}
 */
export function parseExactJson(text: string): unknown {
  if (nestingDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new ExactJsonError('depth', `nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return MAY_LOSE.test(text) ? parse(text, undefined, exactNumber) : JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) throw new ExactJsonError('syntax', 'is not valid JSON');
    throw err;
  }
}

/** True when `value` holds no {@link LosslessNumber} or bigint (looked for `depth` levels down). */
function onlyPlain(value: unknown, depth: number): boolean {
  if (typeof value === 'bigint') return false;
  if (value === null || typeof value !== 'object') return true;
  if (depth === 0 || isLosslessNumber(value)) return false;
  if (Array.isArray(value)) return value.every((v) => onlyPlain(v, depth - 1));
  for (const v of Object.values(value)) if (!onlyPlain(v, depth - 1)) return false;
  return true;
}

/**
 * Serialises like `JSON.stringify`, writing {@link LosslessNumber}s and bigints digit for digit.
 * A value without either (every XML push) is written by `JSON.stringify` itself: lossless-json
 * writes the same text, several times slower.
 */
export function stringifyExactJson(value: unknown): string {
  if (onlyPlain(value, MAX_JSON_DEPTH)) return JSON.stringify(value) ?? 'null';
  return stringify(value) ?? 'null';
}

/** The text of a number field as sent (exact for 64-bit ids); `undefined` for anything else. */
export function numberText(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'bigint') return value.toString();
  return isLosslessNumber(value) ? value.toString() : undefined;
}
