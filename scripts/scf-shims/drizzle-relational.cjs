// Stands in, in the SCF bundles, for drizzle-orm's relational queries (`db.query.<table>`:
// relations.js and each dialect's query-builders/query.js; see RELATIONAL_PARTS in
// scripts/build-lib.ts). wxhub opens drizzle without a schema, so `db.query` stays empty and none
// of these is ever called or constructed; each throws if it were.
const entityKind = Symbol.for('drizzle:entityKind');

function unbundled() {
  throw new Error("drizzle-orm's relational queries are not in the wxhub SCF build");
}

class Relation {
  constructor() {
    unbundled();
  }
}
class One extends Relation {
  static [entityKind] = 'One';
}
class Many extends Relation {
  static [entityKind] = 'Many';
}
class RelationalQueryBuilder {
  static [entityKind] = 'RelationalQueryBuilder';
  constructor() {
    unbundled();
  }
}

module.exports = {
  createTableRelationsHelpers: unbundled,
  extractTablesRelationalConfig: unbundled,
  getOperators: unbundled,
  getOrderByOperators: unbundled,
  normalizeRelation: unbundled,
  One,
  Many,
  RelationalQueryBuilder,
};
