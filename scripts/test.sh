#!/usr/bin/env bash
# Runs every test of wallet_ops on a fresh Debian 12 machine:
#   pg_regress (sql/), isolation specs (specs/), TAP tests (t/), pgTAP (pgtap/)
#   and the structure checks of the source tree (tools/check_*).
#
#   sudo bash scripts/test.sh [structure|regress|isolation|tap|pgtap ...]
#
# Installs the packages it needs, builds and installs the extension, then
# runs the suites as the unprivileged user "postgres" in a copy of the tree,
# each against temporary instances; no running server is needed.
#
# PG_CONFIG=/path/to/pg_config selects another installation (see
# scripts/private-pg.sh); SKIP_DEPS=1 skips the apt step.  WALLET_OPS_OLD_PG_CONFIG
# names an older installation (with wallet_ops installed) for
# t/003_cross_version.pl, which skips without it.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(structure regress isolation tap pgtap)

if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env=PG_CONFIG,SKIP_DEPS,WALLET_OPS_OLD_PG_CONFIG bash "$0" "$@"
fi

if [ "${SKIP_DEPS:-0}" != 1 ]; then
  "$top/scripts/install-deps.sh" || exit 1
fi

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)

cd "$top"
make -s PG_CONFIG="$PG_CONFIG" >/dev/null || { echo "build failed" >&2; exit 1; }
make -s PG_CONFIG="$PG_CONFIG" install >/dev/null || { echo "install failed" >&2; exit 1; }

work=$(mktemp -d /tmp/wallet_ops-test.XXXXXX)
cp -a "$top/." "$work/"
rm -rf "$work/.git"
chown -R postgres: "$work"
chmod 755 "$work"

as_pg() { runuser -u postgres -- env PATH="$bindir:$PATH" "$@"; }

passed=0
failed=0
failed_suites=()

# pg_regress and pg_isolation_regress print one "... ok" / "... FAILED" per test.
count_regress() {
  local log=$1 status=$2 ok bad
  ok=$(grep -cE '\.\.\. ok|^ok [0-9]+' "$log" || true)
  bad=$(grep -cE '\.\.\. FAILED|^not ok [0-9]+' "$log" || true)
  if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
  passed=$((passed + ok)); failed=$((failed + bad))
}

# prove and pg_prove end with "Files=N, Tests=M" and one "Failed x/y
# subtests" line per failing file.
count_prove() {
  local log=$1 status=$2 total bad
  total=$(grep -oE 'Tests=[0-9]+' "$log" | tail -1 | cut -d= -f2)
  bad=$(grep -oE 'Failed [0-9]+/[0-9]+ subtests' "$log" | awk '{split($2,a,"/"); s+=a[1]} END {print s+0}')
  total=${total:-0}
  if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
  passed=$((passed + total - bad)); failed=$((failed + bad))
}

run_suite() {
  local name=$1; shift
  local log="$work/$name.log"
  echo "=== $name"
  as_pg "$@" >"$log" 2>&1
  local status=$?
  cat "$log"
  case $name in
    regress|isolation) count_regress "$log" "$status" ;;
    *) count_prove "$log" "$status" ;;
  esac
  if [ $status -ne 0 ]; then
    failed_suites+=("$name")
    for d in "$work/regression.diffs" "$work/output_iso/regression.diffs"; do
      [ -s "$d" ] && { echo "--- $d"; cat "$d"; }
    done
    for l in "$work"/tmp_check/log/*; do
      [ -f "$l" ] && { echo "--- $l"; tail -n 80 "$l"; }
    done
  fi
}

run_pgtap() {
  local data="$work/tmp_pgtap" port=54329 status
  as_pg initdb -D "$data" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null || return 1
  cat "$work/wallet_ops.conf" >> "$data/postgresql.conf"
  echo "listen_addresses = ''" >> "$data/postgresql.conf"
  echo "unix_socket_directories = '$work'" >> "$data/postgresql.conf"
  echo "port = $port" >> "$data/postgresql.conf"
  as_pg pg_ctl -D "$data" -l "$work/pgtap-server.log" -w start >/dev/null || return 1
  as_pg psql -h "$work" -p $port -d postgres -qc "CREATE DATABASE wallet_ops_pgtap" &&
  as_pg psql -h "$work" -p $port -d wallet_ops_pgtap -qc "CREATE EXTENSION pgtap"
  (cd "$work" && as_pg pg_prove -h "$work" -p $port -d wallet_ops_pgtap pgtap/*.sql)
  status=$?
  as_pg pg_ctl -D "$data" -m fast -w stop >/dev/null
  return $status
}

for suite in "${suites[@]}"; do
  case $suite in
    structure)
      # each check prints what it found and exits non-zero on a defect
      echo "=== structure"
      for check in "$work"/tools/check_*; do
        if (cd "$work" && python3 "$check"); then
          echo "ok - $(basename "$check")"; passed=$((passed + 1))
        else
          echo "not ok - $(basename "$check")"; failed=$((failed + 1)); failed_suites+=(structure)
        fi
      done ;;
    regress)
      ls "$work"/sql/*.sql >/dev/null 2>&1 &&
        run_suite regress bash -c "cd '$work' && make -s PG_CONFIG='$PG_CONFIG' installcheck ISOLATION= TAP_TESTS=" ;;
    isolation)
      ls "$work"/specs/*.spec >/dev/null 2>&1 &&
        run_suite isolation bash -c "cd '$work' && make -s PG_CONFIG='$PG_CONFIG' installcheck REGRESS= TAP_TESTS=" ;;
    tap)
      ls "$work"/t/*.pl >/dev/null 2>&1 &&
        run_suite tap bash -c "cd '$work' && make -s PG_CONFIG='$PG_CONFIG' installcheck REGRESS= ISOLATION= PROVE_FLAGS=--timer" ;;
    pgtap)
      if ls "$work"/pgtap/*.sql >/dev/null 2>&1; then
        echo "=== pgtap"
        run_pgtap >"$work/pgtap.log" 2>&1
        status=$?
        cat "$work/pgtap.log"
        count_prove "$work/pgtap.log" $status
        [ $status -ne 0 ] && { failed_suites+=(pgtap); tail -n 60 "$work/pgtap-server.log"; }
      fi ;;
    *) echo "unknown suite: $suite" >&2; exit 2 ;;
  esac
done

echo
if [ ${#failed_suites[@]} -gt 0 ]; then
  echo "failing suites: ${failed_suites[*]} (work tree kept in $work)"
else
  rm -rf "$work"
fi
echo "wallet_ops: $passed passed, $failed failed"
[ ${#failed_suites[@]} -eq 0 ] && [ $failed -eq 0 ]
