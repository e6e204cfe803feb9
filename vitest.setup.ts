/** Runs once per `npm test`: says plainly which databases the contract suite covers. */
export function setup(): void {
  const url = process.env.TEST_MYSQL_URL;
  if (url === undefined || url === '') {
    process.stdout.write(
      '\n[wxhub] TEST_MYSQL_URL is not set: the MySQL half of the suite is NOT run, only SQLite.\n' +
        '[wxhub] Start one with `bash .ci/mariadb.sh` and export TEST_MYSQL_URL to run it.\n\n',
    );
  } else {
    process.stdout.write(
      '\n[wxhub] contract suite runs on SQLite and on MySQL (TEST_MYSQL_URL).\n\n',
    );
  }
}
