// Stands in, in the SCF bundles, for parts of packages that wxhub never uses (see
// UNUSED_PARTS in scripts/build-lib.ts): serverless-http's Azure provider (wxhub speaks the AWS
// event shape to it) and better-sqlite3's backup, serialize, user functions, aggregates, virtual
// tables and `bindings` lookup (the SCF shim always names the native addon). Calling one fails
// with a clear error instead of a cold start parsing them every time.
module.exports = function unbundled() {
  throw new Error('this part of the package is not in the wxhub SCF build');
};
