// Stands in for `better-sqlite3` in the SCF bundles. Its JavaScript is bundled into `sqlite.js`
// (one file to parse instead of a dozen to resolve and load), and only the native addon is loaded
// from the installed package, by path: the package's default lookup (`bindings`) walks the stack
// and a dozen candidate folders at every cold start. Same class, same options otherwise.
const { dirname, join } = require('node:path');
const Database = require('better-sqlite3');

let addon;
function nativeAddon() {
  if (addon === undefined) {
    let root;
    try {
      root = dirname(require.resolve('better-sqlite3/package.json'));
    } catch {
      throw new Error(
        'the embedded SQLite database needs the better-sqlite3 package installed beside this ' +
          'function (SCF functions use MySQL: set DATABASE_URL=mysql://…)',
      );
    }
    addon = join(root, 'build', 'Release', 'better_sqlite3.node');
  }
  return addon;
}

function WxhubDatabase(filename, options) {
  return new Database(filename, { nativeBinding: nativeAddon(), ...options });
}
WxhubDatabase.prototype = Database.prototype;
WxhubDatabase.SqliteError = Database.SqliteError;
module.exports = WxhubDatabase;
