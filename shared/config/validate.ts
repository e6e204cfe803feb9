// A small validator for wxhub's configuration (environment and apps file). Written out rather
// than built on a schema library: it runs at every cold start of every function, where building
// a schema library's objects cost as much as the rest of the start-up work.
//
// A check reads an unknown value and returns the typed value or INVALID, having added one issue
// per problem (with the path to the field) to the list it is given. Messages never contain the
// value: configuration holds secrets.

export type Path = readonly (string | number)[];

export interface Issue {
  path: Path;
  message: string;
}

export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

export type Check<T> = (value: unknown, path: Path, issues: Issue[]) => T | Invalid;

/** A rule on an already-typed value: a message when it fails, undefined when it holds. */
export type Rule<T> = (value: T) => string | undefined;

/** The type name a "received …" message uses. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : 'number';
  return typeof value;
}

const expected = (what: string, value: unknown) =>
  `Invalid input: expected ${what}, received ${typeName(value)}`;

/** Runs every rule (one issue per failing rule); INVALID when any failed. */
function applyRules<T>(value: T, rules: Rule<T>[], path: Path, issues: Issue[]): T | Invalid {
  let ok = true;
  for (const rule of rules) {
    const message = rule(value);
    if (message !== undefined) {
      issues.push({ path, message });
      ok = false;
    }
  }
  return ok ? value : INVALID;
}

/** A string passing every rule. */
export function str(...rules: Rule<string>[]): Check<string> {
  return (value, path, issues) => {
    if (typeof value !== 'string') {
      issues.push({ path, message: expected('string', value) });
      return INVALID;
    }
    return applyRules(value, rules, path, issues);
  };
}

/** An integer within [min, max]. */
export function int(min: number, max: number): Check<number> {
  return (value, path, issues) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      issues.push({ path, message: expected(typeof value === 'number' ? 'int' : 'number', value) });
      return INVALID;
    }
    return applyRules(
      value,
      [
        (n) => (n < min ? `Too small: expected number to be >=${min}` : undefined),
        (n) => (n > max ? `Too big: expected number to be <=${max}` : undefined),
      ],
      path,
      issues,
    );
  };
}

/** A boolean (`true` or `false`, not a string). */
export function bool(): Check<boolean> {
  return (value, path, issues) => {
    if (typeof value === 'boolean') return value;
    issues.push({ path, message: expected('boolean', value) });
    return INVALID;
  };
}

export const matches =
  (pattern: RegExp, message = `Invalid string: must match pattern ${pattern}`): Rule<string> =>
  (v) =>
    pattern.test(v) ? undefined : message;

export const minLength =
  (n: number, message = `Too small: expected string to have >=${n} characters`): Rule<string> =>
  (v) =>
    v.length >= n ? undefined : message;

export const maxLength =
  (n: number, message = `Too big: expected string to have <=${n} characters`): Rule<string> =>
  (v) =>
    v.length <= n ? undefined : message;

export const refine =
  <T>(holds: (value: T) => boolean, message: string): Rule<T> =>
  (v) =>
    holds(v) ? undefined : message;

/** One of `values` (compared as given); `message` replaces the listing of the options. */
export function oneOf<const T extends string>(values: readonly T[], message?: string): Check<T> {
  const text =
    message ?? `Invalid option: expected one of ${values.map((v) => JSON.stringify(v)).join('|')}`;
  return (value, path, issues) => {
    if (typeof value === 'string' && (values as readonly string[]).includes(value)) {
      return value as T;
    }
    issues.push({ path, message: text });
    return INVALID;
  };
}

/** `check`, then `to` on its value (only when it passed). */
export function map<A, B>(check: Check<A>, to: (value: A) => B): Check<B> {
  return (value, path, issues) => {
    const v = check(value, path, issues);
    return v === INVALID ? INVALID : to(v);
  };
}

/** `check`, then `rules` on its value (only when it passed). */
export function where<T>(check: Check<T>, ...rules: Rule<T>[]): Check<T> {
  return (value, path, issues) => {
    const v = check(value, path, issues);
    return v === INVALID ? INVALID : applyRules(v, rules, path, issues);
  };
}

/** Undefined stays undefined; anything else must pass `check`. */
export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, path, issues) => (value === undefined ? undefined : check(value, path, issues));
}

/** Undefined becomes `fallback`; anything else must pass `check`. */
export function withDefault<T>(check: Check<T>, fallback: T): Check<T> {
  return (value, path, issues) => (value === undefined ? fallback : check(value, path, issues));
}

/** An array whose every element passes `check` (each failing element reported at its index). */
export function array<T>(check: Check<T>): Check<T[]> {
  return (value, path, issues) => {
    if (!Array.isArray(value)) {
      issues.push({ path, message: expected('array', value) });
      return INVALID;
    }
    const out: T[] = [];
    let ok = true;
    value.forEach((item, i) => {
      const v = check(item, [...path, i], issues);
      if (v === INVALID) ok = false;
      else out.push(v);
    });
    return ok ? out : INVALID;
  };
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An object used as a map from string keys to values passing `check`. */
export function record<T>(check: Check<T>): Check<Record<string, T>> {
  return (value, path, issues) => {
    if (!isPlainObject(value)) {
      issues.push({ path, message: expected('record', value) });
      return INVALID;
    }
    const out: Record<string, T> = {};
    let ok = true;
    for (const [k, item] of Object.entries(value)) {
      const v = check(item, [...path, k], issues);
      if (v === INVALID) ok = false;
      else out[k] = v;
    }
    return ok ? out : INVALID;
  };
}

/** `a` or else `b`, whichever the value passes first; one "Invalid input" issue when neither. */
export function either<A, B>(a: Check<A>, b: Check<B>): Check<A | B> {
  return (value, path, issues) => {
    for (const check of [a, b] as Check<A | B>[]) {
      const v = check(value, path, []);
      if (v !== INVALID) return v;
    }
    issues.push({ path, message: 'Invalid input' });
    return INVALID;
  };
}

export type Shape = Record<string, Check<unknown>>;
export type Parsed<S extends Shape> = { [K in keyof S]: Exclude<ReturnType<S[K]>, Invalid> };

/**
 * An object with the fields of `shape`, each checked (every bad field reported). `strict` refuses
 * keys the shape does not name (typos), reported at the object; otherwise they are ignored.
 * Fields whose value comes out undefined are left out.
 */
export function object<S extends Shape>(shape: S, opts: { strict: boolean }): Check<Parsed<S>> {
  const keys = Object.keys(shape);
  return (value, path, issues) => {
    if (!isPlainObject(value)) {
      issues.push({ path, message: expected('object', value) });
      return INVALID;
    }
    const out: Record<string, unknown> = {};
    let ok = true;
    for (const k of keys) {
      const check = shape[k] as Check<unknown>;
      const v = check(Object.hasOwn(value, k) ? value[k] : undefined, [...path, k], issues);
      if (v === INVALID) ok = false;
      else if (v !== undefined) out[k] = v;
    }
    if (opts.strict) {
      const unknown = Object.keys(value).filter((k) => !Object.hasOwn(shape, k));
      if (unknown.length > 0) {
        const list = unknown.map((k) => JSON.stringify(k)).join(', ');
        issues.push({
          path,
          message: `Unrecognized key${unknown.length > 1 ? 's' : ''}: ${list}`,
        });
        ok = false;
      }
    }
    return ok ? (out as Parsed<S>) : INVALID;
  };
}

/** Runs `check` on `value`: the value, or the issues found. */
export function validate<T>(
  check: Check<T>,
  value: unknown,
): { ok: true; value: T } | { ok: false; issues: Issue[] } {
  const issues: Issue[] = [];
  const v = check(value, [], issues);
  return v === INVALID || issues.length > 0 ? { ok: false, issues } : { ok: true, value: v };
}
