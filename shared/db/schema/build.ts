import type { ColumnBuilderBase, HasDefault, NotNull } from 'drizzle-orm';
import type { Column, ColumnSpec, Kind } from '../tables/columns';

// What both schema files do with a declaration from ../tables, whatever the dialect. Only types
// come from Drizzle here; each schema file brings its dialect's column and table functions.

/** A dialect's Drizzle column function for each logical kind, before the modifiers. */
export type Kinds = Record<Kind, (name: string, length?: number) => Modifiable>;

/** What a schema file does with a Drizzle column builder of any kind: apply the modifiers. */
export interface Modifiable {
  notNull(): Modifiable;
  default(value: unknown): Modifiable;
  unique(name?: string): Modifiable;
}

/** A declaration's columns built by a dialect's `kinds`, with their modifiers, by TS key. */
export function buildColumns<TColumns extends Record<string, Column>, TKinds extends Kinds>(
  columns: TColumns,
  kinds: TKinds,
): BuiltColumns<TColumns, TKinds> {
  // The one cast: Object.fromEntries cannot type a mapped object; BuiltColumns says what
  // chaining the same calls on each builder would have typed.
  const built: Record<string, Modifiable> = Object.fromEntries(
    Object.entries(columns).map(([key, { spec: c }]) => [
      key,
      modify(kinds[c.kind](c.name, c.length), c),
    ]),
  );
  return built as BuiltColumns<TColumns, TKinds>;
}

/** The built columns an index is on, in order. */
export function indexColumns<T>(columns: Record<string, T>, on: readonly [string, ...string[]]) {
  const pick = (key: string): T => {
    const found = columns[key];
    if (found === undefined) throw new Error(`index on unknown column ${key}`);
    return found;
  };
  const [first, ...rest] = on;
  return [pick(first), ...rest.map(pick)] as const;
}

function modify(built: Modifiable, spec: ColumnSpec): Modifiable {
  let out = built;
  if (spec.notNull) out = out.notNull();
  if (spec.default !== undefined) out = out.default(spec.default);
  if (spec.unique !== undefined) out = out.unique(spec.unique);
  return out;
}

/**
 * A dialect's Drizzle builder `B` with the column's modifiers applied, exactly as chaining
 * `.notNull()` and `.default()` on it would type it. Used by the schema files.
 */
export type WithModifiers<B extends ColumnBuilderBase, N extends boolean, D extends boolean> = [
  D,
] extends [true]
  ? HasDefault<[N] extends [true] ? NotNull<B> : B>
  : [N] extends [true]
    ? NotNull<B>
    : B;

/** The Drizzle builders a dialect's `kinds` make of a declaration's columns, typed exactly. */
export type BuiltColumns<TColumns extends Record<string, Column>, TKinds extends Kinds> = {
  [K in keyof TColumns]: TColumns[K] extends Column<infer C, infer N, infer D>
    ? WithModifiers<ReturnType<TKinds[C]> & ColumnBuilderBase, N, D>
    : never;
};
