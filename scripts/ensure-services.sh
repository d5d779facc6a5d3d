#!/usr/bin/env bash
# Starts the local PostgreSQL and MariaDB the test suites use, when they are installed but down.
set -u

wait_for() { # name, command
  for _ in $(seq 1 60); do eval "$2" >/dev/null 2>&1 && { echo "$1 is up"; return 0; }; sleep 0.5; done
  echo "$1 did not come up"; return 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  if command -v pg_ctlcluster >/dev/null; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  fi
fi
wait_for PostgreSQL "pg_isready -h 127.0.0.1 -p 5432" || exit 1
psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "create database test" || exit 1

if ! mariadb -h 127.0.0.1 -u root -e 'select 1' >/dev/null 2>&1; then
  if [ -x /usr/sbin/mariadbd ]; then
    echo "starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  fi
fi
wait_for MariaDB "mariadb -h 127.0.0.1 -u root -e 'select 1'" || exit 1
mariadb -h 127.0.0.1 -u root -e 'create database if not exists test' || exit 1
