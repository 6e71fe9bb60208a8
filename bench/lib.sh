# bench/lib.sh: what the benchmarks share.  Sourced by bench/*.sh, not run.
#
# Gives $top, $PG_CONFIG, $bindir and as_pg (run a PostgreSQL program as
# postgres when root), and:
#   bench_build          build and install wallet_ops (skipped with SKIP_BUILD=1)
#   bench_initdb PORT    a scratch cluster in $run, preloading wallet_ops and
#                        listening only on a socket in $run; append the
#                        benchmark's own settings to $run/data/postgresql.conf
#   bench_start          start it
#   bench_stop           stop it and remove $run (call it from an EXIT trap)

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)

if [ "$(id -u)" -eq 0 ]; then
  as_pg() { runuser -u postgres -- env PATH="$bindir:$PATH" "$@"; }
else
  as_pg() { env PATH="$bindir:$PATH" "$@"; }
fi

bench_build() {
  if [ "${SKIP_BUILD:-0}" != 1 ]; then
    (cd "$top" && make -s PG_CONFIG="$PG_CONFIG" >/dev/null && make -s PG_CONFIG="$PG_CONFIG" install >/dev/null)
  fi
}

bench_initdb() {
  local port=$1
  run=$(mktemp -d /tmp/wallet_ops-bench.XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres: "$run"
  as_pg initdb -D "$run/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null
  cat >> "$run/data/postgresql.conf" <<CONF
shared_preload_libraries = 'wallet_ops'
listen_addresses = ''
unix_socket_directories = '$run'
port = $port
CONF
}

bench_start() {
  as_pg pg_ctl -D "$run/data" -l "$run/server.log" -w start >/dev/null
}

bench_stop() {
  as_pg pg_ctl -D "$run/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$run"
}
