/**
 * The logical column types a table declaration uses. Each dialect's schema file
 * (`shared/db/schema/<dialect>.ts`) maps them to its own SQL types:
 *
 * | kind         | MySQL / MariaDB                       | SQLite                            | TS     |
 * | ------------ | ------------------------------------- | --------------------------------- | ------ |
 * | `serial`     | `int` auto-increment primary key      | `integer` autoincrement pk        | number |
 * | `bigserial`  | `bigint` auto-increment primary key   | `integer` autoincrement pk        | number |
 * | `varchar`    | `varchar(n)`                          | `text`                            | string |
 * | `text`       | `text` (64 KiB)                       | `text`                            | string |
 * | `mediumtext` | `mediumtext` (16 MiB)                 | `text`                            | string |
 * | `bigint`     | `bigint` (read as a JS number)        | `integer`                         | number |
 * | `int`        | `int`                                 | `integer`                         | number |
 * | `bool`       | `boolean` (`tinyint(1)`)              | `integer` (0/1)                   | boolean|
 * | `blob`       | `mediumblob` (16 MiB)                 | `blob`                            | Buffer |
 *
 * Only this file and the two schema files know the list; a declaration never names a dialect.
 */
export type Kind =
  | 'serial'
  | 'bigserial'
  | 'varchar'
  | 'text'
  | 'mediumtext'
  | 'bigint'
  | 'int'
  | 'bool'
  | 'blob';

/** What a dialect needs to build one column; the same for every dialect. */
export interface ColumnSpec {
  readonly kind: Kind;
  readonly name: string;
  readonly length?: number;
  readonly notNull: boolean;
  readonly default?: number;
  /** A single-column unique constraint, by its name in the database. */
  readonly unique?: string;
}

/**
 * One column of a declaration, built like Drizzle's own (`varchar('name', 64).notNull()`). The
 * type parameters carry what Drizzle's row types depend on: the kind, NOT NULL and a default.
 */
export class Column<
  K extends Kind = Kind,
  N extends boolean = boolean,
  D extends boolean = boolean,
> {
  declare readonly _notNull: N;
  declare readonly _hasDefault: D;

  constructor(readonly spec: ColumnSpec & { readonly kind: K }) {}

  notNull(): Column<K, true, D> {
    return new Column({ ...this.spec, notNull: true });
  }

  default(value: number): Column<K, N, true> {
    return new Column({ ...this.spec, default: value });
  }

  unique(name: string): Column<K, N, D> {
    return new Column({ ...this.spec, unique: name });
  }
}

const column = <K extends Kind>(kind: K, name: string, length?: number): Column<K, false, false> =>
  new Column({ kind, name, notNull: false, ...(length === undefined ? {} : { length }) });

/** An `int` auto-increment primary key (never null, set by the database). */
export const serial = (name: string): Column<'serial', true, true> =>
  new Column({ kind: 'serial', name, notNull: true });
/** A `bigint` auto-increment primary key, for tables that grow without bound. */
export const bigserial = (name: string): Column<'bigserial', true, true> =>
  new Column({ kind: 'bigserial', name, notNull: true });
/** A short string: `varchar(length)` on MySQL (191 at most for a unique utf8mb4 key). */
export const varchar = (name: string, length: number) => column('varchar', name, length);
/** A string of up to 64 KiB on MySQL (sealed secrets, URLs, error messages). */
export const text = (name: string) => column('text', name);
/** A string of up to 16 MiB on MySQL (raw bodies, JSON documents). */
export const mediumtext = (name: string) => column('mediumtext', name);
/** A 64-bit integer read as a JS number (ids of other rows). */
export const bigint = (name: string) => column('bigint', name);
/** A time: epoch milliseconds in a `bigint` on both dialects, so no time-zone conversion. */
export const ms = (name: string) => column('bigint', name);
export const int = (name: string) => column('int', name);
export const bool = (name: string) => column('bool', name);
/** Bytes of up to 16 MiB on MySQL (`mediumblob`; a `blob` would stop at 64 KiB): images. */
export const blob = (name: string) => column('blob', name);

/** An index or a unique index over columns of the table, by its name in the database. */
export interface IndexSpec<C extends string = string> {
  readonly name: string;
  readonly unique: boolean;
  readonly on: readonly [C, ...C[]];
}

/** One table, described once: its name, its columns (by TS key) and its indexes. */
export interface TableSpec<
  TName extends string = string,
  TColumns extends Record<string, Column> = Record<string, Column>,
> {
  readonly name: TName;
  readonly columns: TColumns;
  readonly indexes: readonly IndexSpec<Extract<keyof TColumns, string>>[];
}

/** Declares a table; `indexes` names columns by their TS keys. */
export function table<const TName extends string, TColumns extends Record<string, Column>>(
  name: TName,
  columns: TColumns,
  indexes: readonly IndexSpec<NoInfer<Extract<keyof TColumns, string>>>[] = [],
): TableSpec<TName, TColumns> {
  return { name, columns, indexes };
}

/** A unique index over `on` (composite keys; one column can use `.unique(name)` instead). */
export const uniqueIndex = <C extends string>(name: string, ...on: [C, ...C[]]): IndexSpec<C> => ({
  name,
  unique: true,
  on,
});

export const index = <C extends string>(name: string, ...on: [C, ...C[]]): IndexSpec<C> => ({
  name,
  unique: false,
  on,
});
