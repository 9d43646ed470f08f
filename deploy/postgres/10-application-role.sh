#!/bin/sh
# Runs once, when the PostgreSQL container initialises its data folder: the application's role.
# It owns nothing; the migrations (run as the owner, POSTGRES_USER) grant it what it may do, and
# revoke UPDATE, DELETE and TRUNCATE on the access log.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE casusoverleg_app LOGIN PASSWORD :'app_password';
GRANT CONNECT ON DATABASE casusoverleg TO casusoverleg_app;
SQL
