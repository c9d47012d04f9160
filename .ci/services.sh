#!/usr/bin/env bash
# Start MariaDB and PostgreSQL on loopback for the metadata store tests, installing them with apt-get
# when missing. CI runs it with stdout to a file and sources that before `make test`.
#
# stdout carries only `export GROVE_TEST_*_URL=...` lines, one per server that is up and accepting the
# `grove`/`grove` login on database `grove_test`; everything else goes to stderr. A server that cannot be
# installed or started is reported on stderr and left out (its tests skip); the script always exits 0.
# Safe to re-run: running servers, the database and the user are reused.
set -uo pipefail

exec 3>&1 1>&2 # keep stdout clean for eval: only the export lines go to fd 3

PG_PORT=5432
MYSQL_PORT=3306
PG_TMP_DATA=/tmp/grove-ci-postgres

log() { echo "services.sh: $*"; }

if [ "$(id -u)" = 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    SUDO=(false) # no way to install or start system services; only already-running servers are used
fi

apt_updated=0
apt_install() {
    # Installs the given packages quietly; returns non-zero (without failing the script) when apt is
    # unavailable, offline or refuses.
    command -v apt-get >/dev/null 2>&1 || return 1
    export DEBIAN_FRONTEND=noninteractive
    if [ "$apt_updated" = 0 ]; then
        "${SUDO[@]}" apt-get -qq update >/dev/null || return 1
        apt_updated=1
    fi
    "${SUDO[@]}" apt-get -qq install -y --no-install-recommends "$@" >/dev/null
}

wait_for() {
    # wait_for SECONDS COMMAND...: poll until COMMAND succeeds.
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.5
    done
}

# --- MariaDB / MySQL ---------------------------------------------------------------------------------

mysql_client() {
    if command -v mariadb >/dev/null 2>&1; then echo mariadb; else echo mysql; fi
}

mysql_grove_ok() {
    "$(mysql_client)" --protocol=TCP -h 127.0.0.1 -P "$MYSQL_PORT" -u grove -pgrove grove_test -e 'SELECT 1'
}

mysql_root() {
    # Debian's MariaDB lets the OS root user in through the unix socket.
    "${SUDO[@]}" "$(mysql_client)" -u root "$@"
}

start_mysql() {
    if mysql_grove_ok >/dev/null 2>&1; then
        return 0
    fi
    if ! command -v mysqld >/dev/null 2>&1 && ! command -v mariadbd >/dev/null 2>&1; then
        log "installing mariadb-server"
        apt_install mariadb-server mariadb-client || {
            log "could not install mariadb-server; MySQL tests will skip"
            return 1
        }
    fi
    if ! wait_for 1 mysql_root -e 'SELECT 1'; then
        log "starting MariaDB"
        # Daemons get no stdin/stdout/stderr of ours and not the export channel (fd 3): a caller that reads
        # our output until it closes would otherwise wait forever. Their start-up messages go to a log.
        "${SUDO[@]}" service mariadb start </dev/null >>/tmp/grove-ci-services.log 2>&1 3>&- ||
            "${SUDO[@]}" service mysql start </dev/null >>/tmp/grove-ci-services.log 2>&1 3>&- || {
            # No init script usable (minimal containers): run the server directly on loopback.
            local mysqld_bin
            mysqld_bin=$(command -v mariadbd || command -v mysqld)
            "${SUDO[@]}" mkdir -p /run/mysqld
            "${SUDO[@]}" chown mysql:mysql /run/mysqld 2>/dev/null || true
            "${SUDO[@]}" sh -c "nohup '$mysqld_bin' --user=mysql --bind-address=127.0.0.1 --port=$MYSQL_PORT \
                </dev/null >/tmp/grove-ci-mysqld.log 2>&1 &" </dev/null >/dev/null 2>&1 3>&-
        }
        wait_for 60 mysql_root -e 'SELECT 1' || {
            log "MariaDB did not start; MySQL tests will skip"
            return 1
        }
    fi
    mysql_root -e "
        CREATE DATABASE IF NOT EXISTS grove_test CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
        CREATE USER IF NOT EXISTS 'grove'@'127.0.0.1' IDENTIFIED BY 'grove';
        CREATE USER IF NOT EXISTS 'grove'@'localhost' IDENTIFIED BY 'grove';
        GRANT ALL PRIVILEGES ON grove_test.* TO 'grove'@'127.0.0.1';
        GRANT ALL PRIVILEGES ON grove_test.* TO 'grove'@'localhost';
        FLUSH PRIVILEGES;" || {
        log "could not create the grove_test database in MariaDB; MySQL tests will skip"
        return 1
    }
    wait_for 30 mysql_grove_ok
}

# --- PostgreSQL ----------------------------------------------------------------------------------------

pg_grove_ok() {
    PGPASSWORD=grove psql -h 127.0.0.1 -p "$PG_PORT" -U grove -d grove_test -tAc 'SELECT 1'
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "${SUDO[@]}" -u postgres "$@"; fi
}

pg_bin_dir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

start_postgres() {
    if pg_grove_ok >/dev/null 2>&1; then
        return 0
    fi
    if [ -z "$(pg_bin_dir)" ]; then
        log "installing postgresql"
        apt_install postgresql postgresql-client || {
            log "could not install postgresql; PostgreSQL tests will skip"
            return 1
        }
    fi
    local bin
    bin=$(pg_bin_dir)
    if ! wait_for 1 "$bin/pg_isready" -h 127.0.0.1 -p "$PG_PORT"; then
        log "starting PostgreSQL"
        local cluster
        cluster=$(pg_lsclusters -h 2>/dev/null | awk -v port="$PG_PORT" '$3 == port {print $1, $2; exit}')
        if [ -n "$cluster" ]; then
            # shellcheck disable=SC2086 # "version name" splits into two arguments on purpose
            "${SUDO[@]}" pg_ctlcluster $cluster start </dev/null >>/tmp/grove-ci-services.log 2>&1 3>&- || true
        fi
        if ! wait_for 15 "$bin/pg_isready" -h 127.0.0.1 -p "$PG_PORT"; then
            # No packaged cluster (or it failed): a throwaway one under /tmp, owned by postgres.
            if [ ! -s "$PG_TMP_DATA/PG_VERSION" ]; then
                "${SUDO[@]}" mkdir -p "$PG_TMP_DATA"
                "${SUDO[@]}" chown postgres:postgres "$PG_TMP_DATA"
                as_postgres "$bin/initdb" -D "$PG_TMP_DATA" -U postgres --auth-local=trust \
                    --auth-host=scram-sha-256 >/dev/null || true
            fi
            as_postgres "$bin/pg_ctl" -D "$PG_TMP_DATA" -l "$PG_TMP_DATA/server.log" -w \
                -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=/tmp" start \
                </dev/null >>/tmp/grove-ci-services.log 2>&1 3>&- || true
        fi
        wait_for 60 "$bin/pg_isready" -h 127.0.0.1 -p "$PG_PORT" || {
            log "PostgreSQL did not start; PostgreSQL tests will skip"
            return 1
        }
    fi
    local psql_admin=(psql -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres -tA)
    if [ -S "/tmp/.s.PGSQL.$PG_PORT" ] && [ ! -S "/var/run/postgresql/.s.PGSQL.$PG_PORT" ]; then
        psql_admin+=(-h /tmp)
    fi
    as_postgres "${psql_admin[@]}" -c "
        DO \$\$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grove') THEN
                CREATE ROLE grove LOGIN PASSWORD 'grove';
            END IF;
        END \$\$;" >/dev/null || {
        log "could not create the grove role in PostgreSQL; PostgreSQL tests will skip"
        return 1
    }
    if [ "$(as_postgres "${psql_admin[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'grove_test'")" != 1 ]; then
        # The owner may create tables in the public schema (PostgreSQL 15 no longer lets everyone).
        as_postgres "${psql_admin[@]}" -c "CREATE DATABASE grove_test OWNER grove" >/dev/null || return 1
    fi
    wait_for 30 pg_grove_ok
}

if start_mysql; then
    echo "export GROVE_TEST_MYSQL_URL=mysql+pymysql://grove:grove@127.0.0.1:$MYSQL_PORT/grove_test" >&3
fi
if start_postgres; then
    echo "export GROVE_TEST_POSTGRES_URL=postgresql+psycopg://grove:grove@127.0.0.1:$PG_PORT/grove_test" >&3
fi
exit 0
