# Shared by start.sh and test.sh: finds or starts MariaDB and Redis, installing Debian packages when missing.
# shellcheck shell=bash

log() { printf '[accel] %s\n' "$*" >&2; }

apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "missing Debian packages: $* (run as root, or: sudo apt-get install -y $*)"
    exit 1
  fi
  if [ "$apt_updated" = 0 ]; then apt-get update -qq >/dev/null; apt_updated=1; fi
  log "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# need_cmd COMMAND PACKAGE: installs PACKAGE when COMMAND is not on the PATH.
need_cmd() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || apt_install "$2"; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

wait_port() {
  for _ in $(seq 1 150); do port_open "$1" "$2" && return 0; sleep 0.2; done
  log "nothing listens on $1:$2 after 30 s"; return 1
}

ensure_node_deps() {
  # Addons npm builds at install: libdeflate compresses eStargz members, ISA-L decompresses
  # source layers (zlib does either without them).
  [ -f /usr/include/libdeflate.h ] || apt_install libdeflate-dev
  [ -f /usr/include/isa-l/igzip_lib.h ] || apt_install libisal-dev
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing npm packages"
    # npm ci refuses a lock file that lacks optional platform packages the registry does not
    # serve (msgpackr-extract builds for other OSes); npm install resolves the same tree then.
    npm ci --no-audit --no-fund --loglevel=error 2>/dev/null ||
      npm install --no-audit --no-fund --loglevel=error
  fi
  [ -f libs/convert/native/build/Release/accel_deflate.node ] && [ -f libs/convert/native/build/Release/accel_gunzip.node ] ||
    bash scripts/build-native.sh
}

# ensure_mysql DATA_DIR: sets DB_HOST DB_PORT DB_USER DB_PASSWORD.
ensure_mysql() {
  DB_HOST=${DB_HOST:-127.0.0.1}; DB_PORT=${DB_PORT:-3306}; DB_USER=${DB_USER:-root}; DB_PASSWORD=${DB_PASSWORD:-}
  if port_open "$DB_HOST" "$DB_PORT" && mysql_ok; then log "using MySQL/MariaDB at $DB_HOST:$DB_PORT"; return; fi
  need_cmd mariadbd mariadb-server
  need_cmd mariadb mariadb-client
  local dir="$1/mariadb"; mkdir -p "$dir"
  DB_HOST=127.0.0.1
  if [ -f "$dir/port" ] && port_open 127.0.0.1 "$(cat "$dir/port")"; then DB_PORT=$(cat "$dir/port"); DB_USER=root; DB_PASSWORD=; return; fi
  DB_PORT=$(free_port); DB_USER=root; DB_PASSWORD=
  if [ ! -d "$dir/data/mysql" ]; then
    mariadb-install-db --no-defaults --datadir="$dir/data" --user="$(id -un)" --auth-root-authentication-method=normal >"$dir/install.log" 2>&1
  fi
  log "starting a private MariaDB on 127.0.0.1:$DB_PORT (data in $dir/data)"
  nohup "$(command -v mariadbd || echo /usr/sbin/mariadbd)" --no-defaults --datadir="$dir/data" --socket="$dir/mysqld.sock" \
    --port="$DB_PORT" --bind-address=127.0.0.1 --user="$(id -un)" --skip-name-resolve --pid-file="$dir/mysqld.pid" \
    >"$dir/mysqld.log" 2>&1 &
  echo "$DB_PORT" >"$dir/port"
  wait_port 127.0.0.1 "$DB_PORT"
  for _ in $(seq 1 50); do mysql_ok && return 0; sleep 0.2; done
  log "MariaDB did not accept root on port $DB_PORT; see $dir/mysqld.log"; return 1
}

mysql_ok() {
  command -v mariadb >/dev/null 2>&1 || return 0
  MYSQL_PWD="$DB_PASSWORD" mariadb --protocol=tcp -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" -e 'SELECT 1' >/dev/null 2>&1
}

# ensure_redis DATA_DIR: sets REDIS_HOST REDIS_PORT.
ensure_redis() {
  REDIS_HOST=${REDIS_HOST:-127.0.0.1}; REDIS_PORT=${REDIS_PORT:-6379}
  if port_open "$REDIS_HOST" "$REDIS_PORT"; then log "using Redis at $REDIS_HOST:$REDIS_PORT"; return; fi
  need_cmd redis-server redis-server
  local dir="$1/redis"; mkdir -p "$dir"
  REDIS_HOST=127.0.0.1
  if [ -f "$dir/port" ] && port_open 127.0.0.1 "$(cat "$dir/port")"; then REDIS_PORT=$(cat "$dir/port"); return; fi
  REDIS_PORT=$(free_port)
  log "starting a private Redis on 127.0.0.1:$REDIS_PORT (data in $dir)"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$dir" --appendonly yes --daemonize yes \
    --logfile "$dir/redis.log" --pidfile "$dir/redis.pid" >/dev/null
  echo "$REDIS_PORT" >"$dir/port"
  wait_port 127.0.0.1 "$REDIS_PORT"
}

# ensure_test_services: what the test suite and the benchmarks need; exports ACCEL_TEST_* for them.
ensure_test_services() {
  need_cmd node nodejs
  need_cmd docker-registry docker-registry
  need_cmd openssl openssl
  need_cmd containerd containerd
  need_cmd ctr-remote stargz-snapshotter
  need_cmd fsck.erofs erofs-utils
  # Upstream's Go eStargz reader, built offline against Debian's copy of its sources.
  need_cmd go golang-go
  [ -d /usr/share/gocode/src/github.com/containerd/stargz-snapshotter/estargz ] ||
    apt_install golang-github-containerd-stargz-snapshotter-dev
  ensure_node_deps
  local state_dir=${ACCEL_TEST_STATE:-${TMPDIR:-/tmp}/accel-gateway-test}
  mkdir -p "$state_dir"
  ensure_mysql "$state_dir"
  ensure_redis "$state_dir"
  export ACCEL_TEST_DB_HOST=$DB_HOST ACCEL_TEST_DB_PORT=$DB_PORT ACCEL_TEST_DB_USER=$DB_USER ACCEL_TEST_DB_PASSWORD=$DB_PASSWORD
  export ACCEL_TEST_REDIS_HOST=$REDIS_HOST ACCEL_TEST_REDIS_PORT=$REDIS_PORT
}
