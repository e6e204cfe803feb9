// Stands in, in the SCF bundles, for the two PostgreSQL pieces drizzle-orm's dialect-neutral code
// imports (see PG_CORE_PARTS in scripts/build-lib.ts): `isPgEnum` (sql/sql.js) and
// `PrimaryKeyBuilder` (relations.js), which pull in pg-core's column and table classes. wxhub's
// tables are MySQL and SQLite only, so neither ever meets a PostgreSQL object; both answer exactly
// as drizzle's own do for every value (same symbol checks, same entity kind).
const entityKind = Symbol.for('drizzle:entityKind');
const isPgEnumSym = Symbol.for('drizzle:isPgEnum');

function isPgEnum(obj) {
  return !!obj && typeof obj === 'function' && isPgEnumSym in obj && obj[isPgEnumSym] === true;
}

class PrimaryKeyBuilder {
  static [entityKind] = 'PgPrimaryKeyBuilder';
  constructor() {
    throw new Error('PostgreSQL primary keys are not in the wxhub SCF build');
  }
}

module.exports = { isPgEnum, PrimaryKeyBuilder };
