#!/usr/bin/env bash
# Runs every test of wallet_ops on a fresh Debian 12 machine:
#   pg_regress (sql/), isolation specs (specs/), TAP tests (t/), pgTAP (pgtap/)
#   and the structure checks of the source tree (tools/check_*).
#
#   bash scripts/test.sh [structure|regress|isolation|tap|pgtap ...]   (as root, or it asks sudo)
#
# Installs the packages it needs, builds and installs the extension, then
# runs the suites as the unprivileged user "postgres" in a copy of the tree,
# each against temporary instances; no running server is needed.
#
# The suites run on every PostgreSQL version in WALLET_OPS_PG_VERSIONS
# (default "15 18"): 15 is Debian 12's package, the others are built from
# Debian's source packages by scripts/build-pg.sh and cached outside the
# clone (a cold build takes about 6 minutes on 2 cores, a cached one none).
# A matrix of version x suite with pass/fail counts ends the run; a failure
# on any version fails it.  The later versions' TAP tests get
# WALLET_OPS_OLD_PG_CONFIG, the first version's pg_config, for the dump and
# restore across versions, and WALLET_OPS_UPGRADE_FROM_PG_CONFIG, a 15
# built from source by scripts/build-pg.sh, for pg_upgrade.
#
# PG_CONFIG=/path/to/pg_config runs on that installation only (see
# scripts/private-pg.sh); SKIP_DEPS=1 skips the apt step.  With the tap
# suite, Citus is built into each installation from 15 to 17 from
# $WALLET_OPS_CITUS_TARBALL (default: the newest citus-*.tar.xz in
# ../shared/vendor or /work/shared/vendor)
# when it exists (scripts/build-citus.sh); the Citus tests skip otherwise.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(structure regress isolation tap pgtap)

if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env=PG_CONFIG,SKIP_DEPS,WALLET_OPS_CITUS_TARBALL,WALLET_OPS_PG_VERSIONS,WALLET_OPS_PG_CACHE,WALLET_OPS_OLD_PG_CONFIG,WALLET_OPS_UPGRADE_FROM_PG_CONFIG bash "$0" "$@"
fi

if [ "${SKIP_DEPS:-0}" != 1 ]; then
  "$top/scripts/install-deps.sh" || exit 1
fi

# the installations to test, as "version pg_config" pairs
installs=()
PG_CONFIG_GIVEN=${PG_CONFIG:-}
if [ -n "${PG_CONFIG:-}" ]; then
  installs+=("$("$PG_CONFIG" --version | awk '{print int($2)}') $PG_CONFIG")
else
  for v in ${WALLET_OPS_PG_VERSIONS:-15 18}; do
    if [ "$v" = 15 ]; then
      installs+=("15 /usr/lib/postgresql/15/bin/pg_config")
    elif pgc=$(bash "$top/scripts/build-pg.sh" "$v"); then
      installs+=("$v $pgc")
    else
      echo "PostgreSQL $v could not be built (see ${WALLET_OPS_PG_CACHE:-/var/cache/wallet_ops/pg}/build-$v.log)" >&2
      exit 1
    fi
  done
fi

as_pg() { runuser -u postgres -- env PATH="$bindir:$PATH" "$@"; }

passed=0
failed=0
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
    failed_suites+=("$version:$name")
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

old_pg_config_given=${WALLET_OPS_OLD_PG_CONFIG:-}

# pg_upgrade to a later version (t/004_upgrade_major.pl) starts from a 15
# built from Debian's source: the packaged 15 stamps every column with an
# attribute option (pg_attver) that later versions refuse to restore.
newest=0
for install in "${installs[@]}"; do
  [ "${install%% *}" -gt "$newest" ] && newest=${install%% *}
done
if [ -z "${WALLET_OPS_UPGRADE_FROM_PG_CONFIG:-}" ] && [ "$newest" -gt 15 ] && [ -z "${PG_CONFIG_GIVEN:-}" ]; then
  if from=$(bash "$top/scripts/build-pg.sh" 15); then
    copy=$(mktemp -d /tmp/wallet_ops-upgrade-from.XXXXXX)
    cp -a "$top/." "$copy/"
    if (cd "$copy" && { make -s PG_CONFIG="$from" clean >/dev/null 2>&1; true; } &&
        make -s PG_CONFIG="$from" COPT=-Werror >/dev/null && make -s PG_CONFIG="$from" install >/dev/null); then
      chmod -R a+rX "$(dirname "$(dirname "$from")")"
      export WALLET_OPS_UPGRADE_FROM_PG_CONFIG=$from
    else
      echo "could not install wallet_ops into the PostgreSQL 15 built from source" >&2; exit 1
    fi
    rm -rf "$copy"
  else
    echo "PostgreSQL 15 could not be built from source, for t/004_upgrade_major.pl" >&2; exit 1
  fi
fi

declare -A matrix
failed_suites=()
kept=()
first_pg_config=
for install in "${installs[@]}"; do
  version=${install%% *}
  PG_CONFIG=${install#* }
  bindir=$("$PG_CONFIG" --bindir)
  echo "##### PostgreSQL $version ($PG_CONFIG)"

  # build in a copy of its own, so versions never share object files; a
  # compiler warning on any version fails the run
  work=$(mktemp -d /tmp/wallet_ops-test.XXXXXX)
  cp -a "$top/." "$work/"
  rm -rf "$work/.git"
  (cd "$work" && { make -s PG_CONFIG="$PG_CONFIG" clean >/dev/null 2>&1; true; } && make -s PG_CONFIG="$PG_CONFIG" COPT=-Werror >/dev/null &&
     make -s PG_CONFIG="$PG_CONFIG" install >/dev/null) ||
    { echo "build or install failed on PostgreSQL $version" >&2; exit 1; }
  # wallet_ops_verify by name, as scripts/demo.sh leaves it (for the
  # system's packaged server only; t/072 checks it)
  bash "$top/scripts/link-verify.sh" "$bindir" || true
  chown -R postgres: "$work"
  chmod 755 "$work"
  # the tests that cross versions use the first version as the older one,
  # unless the caller named one
  [ -n "$first_pg_config" ] || first_pg_config=$PG_CONFIG
  if [ "$PG_CONFIG" != "$first_pg_config" ] && [ -z "${old_pg_config_given:-}" ]; then
    export WALLET_OPS_OLD_PG_CONFIG=$first_pg_config
  fi
  failures_before=${#failed_suites[@]}

  # Citus for t/080_*, built from the shared source tarball when there is
  # one (scripts/build-citus.sh; Citus 13 supports 15 to 17); without it
  # those tests skip
  citus_tarball=${WALLET_OPS_CITUS_TARBALL:-$(ls "$top"/../shared/vendor/citus-*.tar.xz /work/shared/vendor/citus-*.tar.xz 2>/dev/null | sort -V | tail -1)}
  if [[ " ${suites[*]} " == *" tap "* ]] && [ "$version" -ge 15 ] && [ "$version" -le 17 ] && [ -f "$citus_tarball" ]; then
    bash "$top/scripts/build-citus.sh" "$citus_tarball" "$PG_CONFIG" >/dev/null ||
      { echo "Citus could not be built for PostgreSQL $version" >&2; failed_suites+=("$version:citus-build"); }
  fi

  for suite in "${suites[@]}"; do
    p0=$passed f0=$failed
    case $suite in
      structure)
        # the source tree is the same for every version: checked once
        [ "$PG_CONFIG" = "$first_pg_config" ] || continue
        # each check prints what it found and exits non-zero on a defect
        echo "=== structure"
        for check in "$work"/tools/check_*; do
          if (cd "$work" && python3 "$check"); then
            echo "ok - $(basename "$check")"; passed=$((passed + 1))
          else
            echo "not ok - $(basename "$check")"; failed=$((failed + 1)); failed_suites+=("$version:structure")
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
          [ $status -ne 0 ] && { failed_suites+=("$version:pgtap"); tail -n 60 "$work/pgtap-server.log"; }
        fi ;;
      *) echo "unknown suite: $suite" >&2; exit 2 ;;
    esac
    matrix[$version:$suite]="$((passed - p0)) passed, $((failed - f0)) failed"
  done

  if [ ${#failed_suites[@]} -gt "$failures_before" ]; then
    kept+=("$work")
  else
    rm -rf "$work"
  fi
done

echo
printf '%-8s' "version"; for suite in "${suites[@]}"; do printf ' | %-20s' "$suite"; done; echo
for install in "${installs[@]}"; do
  version=${install%% *}
  printf '%-8s' "$version"
  for suite in "${suites[@]}"; do printf ' | %-20s' "${matrix[$version:$suite]:-}"; done
  echo
done
echo
if [ ${#failed_suites[@]} -gt 0 ]; then
  echo "failing suites: ${failed_suites[*]} (work trees kept in ${kept[*]})"
fi
echo "wallet_ops: $passed passed, $failed failed"
[ ${#failed_suites[@]} -eq 0 ] && [ $failed -eq 0 ]
