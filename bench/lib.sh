# bench/lib.sh: what the benchmarks share.  Sourced by bench/*.sh, not run.
#
# Gives $top, $PG_CONFIG, $bindir and as_pg (run a PostgreSQL program as
# postgres when root), and:
#   bench_build          build and install wallet_ops (skipped with SKIP_BUILD=1)
#   bench_initdb PORT    a scratch cluster in $run, preloading wallet_ops and
#                        listening only on a socket in $run; append the
#                        benchmark's own settings to $run/data/postgresql.conf
#   bench_huge_pages SIZE
#                        reserve huge pages for a shared_buffers of SIZE
#                        (e.g. 1GB) when the kernel lets root do so, and set
#                        $huge_pages (on/off) for postgresql.conf; HUGE_PAGES=off
#                        skips it
#   bench_start          start it
#   bench_stop           stop it, remove $run and give reserved huge pages
#                        back (call it from an EXIT trap)

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

bench_old_nr_hugepages=
huge_pages=off
bench_huge_pages() {
  local hp_kb sb_kb need free
  [ "${HUGE_PAGES:-auto}" != off ] && [ -w /proc/sys/vm/nr_hugepages ] || return 0
  hp_kb=$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)
  sb_kb=$(( $(numfmt --from=iec "${1%B}") / 1024 ))
  need=$(( sb_kb * 11 / 10 / hp_kb + 64 ))   # and the rest of shared memory
  free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
  bench_old_nr_hugepages=$(cat /proc/sys/vm/nr_hugepages)
  if [ "$free" -lt "$need" ]; then
    echo $((bench_old_nr_hugepages + need - free)) >/proc/sys/vm/nr_hugepages 2>/dev/null || true
  fi
  if [ "$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)" -ge "$need" ]; then
    huge_pages=on
  fi
}

bench_start() {
  as_pg pg_ctl -D "$run/data" -l "$run/server.log" -w start >/dev/null
}

bench_stop() {
  as_pg pg_ctl -D "$run/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$run"
  if [ -n "$bench_old_nr_hugepages" ]; then
    echo "$bench_old_nr_hugepages" >/proc/sys/vm/nr_hugepages
  fi
}
