#!/usr/bin/env bash
# Starts Debian's PostgreSQL on loopback (if installed and not running) and makes sure the test
# role and database exist. Prints the SQLAlchemy URL for IRIS_TEST_DATABASE_URL on stdout, and
# nothing else there: what pg_ctlcluster and friends say (e.g. "Removed stale pid file.") goes to
# stderr, because the caller captures stdout as the URL.
set -euo pipefail
exec 3>&1 1>&2
version=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)
if [ -z "$version" ]; then
  echo "PostgreSQL is not installed" >&2
  exit 1
fi
if ! pg_lsclusters -h | awk '{print $4}' | grep -q online; then
  if ! pg_lsclusters -h | grep -q .; then
    pg_createcluster "$version" main >/dev/null
  fi
  pg_ctlcluster "$version" main start 3>&-  # the server must not inherit our stdout
fi
port=$(pg_lsclusters -h | awk '$4 == "online" {print $3; exit}')
for _ in $(seq 1 50); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.2
done
su postgres -c "psql -q -p $port -v ON_ERROR_STOP=1" >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'iris') THEN
    CREATE ROLE iris LOGIN PASSWORD 'iris' CREATEDB;
  END IF;
END \$\$;
SQL
su postgres -c "psql -q -p $port -tc \"SELECT 1 FROM pg_database WHERE datname = 'iris_test'\"" \
  | grep -q 1 || su postgres -c "createdb -p $port -O iris iris_test"
echo "postgresql+psycopg://iris:iris@127.0.0.1:${port}/iris_test" >&3
