#!/bin/sh
# Write PgBouncer's user list and database line from the environment, then run it.
set -eu
: "${POSTGRES_USER:?}" "${POSTGRES_PASSWORD:?}"
POSTGRES_HOST=${POSTGRES_HOST:-postgres}
POSTGRES_PORT=${POSTGRES_PORT:-5432}
mkdir -p /tmp/pgbouncer
umask 077
printf '"%s" "%s"\n' "$POSTGRES_USER" "$POSTGRES_PASSWORD" >/tmp/pgbouncer/userlist.txt
sed -e "s/%(POSTGRES_HOST)s/$POSTGRES_HOST/" -e "s/%(POSTGRES_PORT)s/$POSTGRES_PORT/" \
  -e "s/%(POSTGRES_USER)s/$POSTGRES_USER/g" \
  /etc/pgbouncer/pgbouncer.ini >/tmp/pgbouncer/pgbouncer.ini
exec pgbouncer /tmp/pgbouncer/pgbouncer.ini
