#!/bin/sh
# Creates Temporal's two databases (persistence and visibility) in its Postgres and brings their
# schemas to the version this admin-tools image ships, instead of the deprecated auto-setup image.
# Runs as the one-shot `temporal-schema` service of docker-compose.yml; safe to run again:
# setup-schema skips a database already past 0.0 and update-schema applies only newer versions.
# Connection: SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD, read by temporal-sql-tool.
set -eu

SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12

create_database() {
  if output=$(temporal-sql-tool --db "$1" create-database 2>&1); then
    echo "created database $1"
  elif printf '%s' "$output" | grep -q 'already exists'; then
    echo "database $1 already exists"
  else
    printf '%s\n' "$output" >&2
    exit 1
  fi
}

for pair in temporal:temporal temporal_visibility:visibility; do
  database=${pair%%:*}
  schema=${pair#*:}
  create_database "$database"
  temporal-sql-tool --db "$database" setup-schema -v 0.0
  temporal-sql-tool --db "$database" update-schema -d "$SCHEMA_ROOT/$schema/versioned"
done
echo "Temporal schema is up to date"
