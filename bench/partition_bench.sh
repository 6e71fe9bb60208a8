#!/usr/bin/env bash
# Partitions and worker, measured against pg_partman in the same run:
#   1. making 132 monthly partitions of a fresh table:
#        wallet_ops.manage_partitions(t, 'month', 131)
#        vs partman.create_parent(t, ..., p_premake => 131, p_start_partition => this month)
#   2. a maintenance run with nothing to do, on one table:
#        wallet_ops.run_maintenance(t) vs partman.run_maintenance(t)
#      and the no-op pass over all of 10 and of 100 managed tables, each
#      call in a fresh session: run_maintenance() vs partman.run_maintenance()
#   3. the idle launcher: CPU (utime + stime in /proc/<pid>/stat) over 30 s
#      with naptime = 60 (workers come for a tick and leave: their cost,
#      for 1 to 300 databases, is measured by bench/pool_bench.sh).
#
#   sudo PG_CONFIG=/path/to/pg_config bash bench/partition_bench.sh
#
# Starts a scratch cluster (wallet_ops preloaded, pg_partman installed from
# postgresql-15-partman) and removes it afterwards.  Prints medians and
# ratios wallet_ops / pg_partman (lower is better).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env=PG_CONFIG,REPS,IDLE_SECS,SKIP_BUILD bash "$0" "$@"
fi
reps=${REPS:-7}
idle_secs=${IDLE_SECS:-30}
port=54340

. "$(dirname "$0")/lib.sh"

bench_build
if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/pg_partman.control" ]; then
  echo "pg_partman is not installed for $PG_CONFIG (package postgresql-15-partman)" >&2
  exit 1
fi

bench_initdb "$port"
trap bench_stop EXIT
cat >> "$run/data/postgresql.conf" <<CONF
wallet_ops.naptime = 60
fsync = off
CONF
bench_start
q() { as_pg psql -h "$run" -p $port -d bench -X -qAt -v ON_ERROR_STOP=1 "$@"; }

as_pg psql -h "$run" -p $port -d postgres -qc "CREATE DATABASE bench"
q <<'SQL'
CREATE EXTENSION wallet_ops;
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
CREATE TABLE timings (rep int, what text, ms float8);
SQL
echo "pg_partman $(q -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_partman'"), PostgreSQL $(q -c 'SHOW server_version')"

# 1. 132 monthly partitions of a fresh table.  Each rep runs in a fresh
# session, first warmed up by each tool making 2 partitions of a throwaway
# table (catalog caches, pg_partman's PL/pgSQL), then the two tools in turn,
# which goes first alternating.  Before the first rep, one untimed round of
# both at full size: a new cluster's first thousands of relation files and
# its first WAL segments (created and zero-filled, later recycled) cost
# more than the later ones, and the first timed reps used to pay for them
# (wallet_ops 317 ms in the first rep, 121-198 ms from the fourth on).
q >/dev/null <<'SQL'
CREATE TABLE round0_w (id bigint NOT NULL, at timestamptz NOT NULL, payload text, PRIMARY KEY (id, at))
    PARTITION BY RANGE (at);
CREATE TABLE round0_p (id bigint NOT NULL, at timestamptz NOT NULL, payload text, PRIMARY KEY (id, at))
    PARTITION BY RANGE (at);
SELECT count(*) FROM wallet_ops.manage_partitions('round0_w', 'month', 131);
SELECT partman.create_parent('public.round0_p', 'at', 'native', 'monthly', p_premake => 131,
                             p_start_partition => to_char(date_trunc('month', now()), 'YYYY-MM-DD'));
SQL
for i in $(seq 1 "$reps"); do
  ours="DO \$\$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
    PERFORM count(*) FROM wallet_ops.manage_partitions('w_$i', 'month', 131);
    INSERT INTO timings VALUES ($i, 'create wallet_ops', extract(epoch FROM clock_timestamp() - t0) * 1000);
END \$\$;"
  theirs="DO \$\$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
    PERFORM partman.create_parent('public.p_$i', 'at', 'native', 'monthly',
                                  p_premake => 131,
                                  p_start_partition => to_char(date_trunc('month', now()), 'YYYY-MM-DD'));
    INSERT INTO timings VALUES ($i, 'create pg_partman', extract(epoch FROM clock_timestamp() - t0) * 1000);
END \$\$;"
  # PostgreSQL's own floor: the same 132 monthly partitions and a default
  # partition, each a plain CREATE TABLE ... PARTITION OF from a loop
  plain="DO \$\$
DECLARE t0 timestamptz := clock_timestamp();
    m timestamptz := date_trunc('month', now());
BEGIN
    FOR k IN 0..131 LOOP
        EXECUTE format('CREATE TABLE public.%I PARTITION OF public.d_$i FOR VALUES FROM (%L) TO (%L)',
                       'd_${i}_' || to_char(m + k * interval '1 month', 'YYYYMM'),
                       m + k * interval '1 month', m + (k + 1) * interval '1 month');
    END LOOP;
    CREATE TABLE public.d_${i}_default PARTITION OF public.d_$i DEFAULT;
    INSERT INTO timings VALUES ($i, 'create plain DDL', extract(epoch FROM clock_timestamp() - t0) * 1000);
END \$\$;"
  # which goes first, second and last turns with each rep
  case $((i % 3)) in
    1) first=$ours; second=$theirs; third=$plain ;;
    2) first=$theirs; second=$plain; third=$ours ;;
    0) first=$plain; second=$ours; third=$theirs ;;
  esac
  q <<SQL
CREATE TABLE warm_w_$i (id bigint NOT NULL, at timestamptz NOT NULL, payload text, PRIMARY KEY (id, at))
    PARTITION BY RANGE (at);
CREATE TABLE warm_p_$i (id bigint NOT NULL, at timestamptz NOT NULL, payload text, PRIMARY KEY (id, at))
    PARTITION BY RANGE (at);
SELECT count(*) FROM wallet_ops.manage_partitions('warm_w_$i', 'month', 1) \\g /dev/null
SELECT partman.create_parent('public.warm_p_$i', 'at', 'native', 'monthly', p_premake => 1,
                             p_start_partition => to_char(date_trunc('month', now()), 'YYYY-MM-DD')) \\g /dev/null
CREATE TABLE w_$i (id bigint NOT NULL, at timestamptz NOT NULL, payload text, PRIMARY KEY (id, at))
    PARTITION BY RANGE (at);
CREATE TABLE p_$i (id bigint NOT NULL, at timestamptz NOT NULL, payload text, PRIMARY KEY (id, at))
    PARTITION BY RANGE (at);
CREATE TABLE d_$i (id bigint NOT NULL, at timestamptz NOT NULL, payload text, PRIMARY KEY (id, at))
    PARTITION BY RANGE (at);
$first
$second
$third
SQL
done
echo "partitions made: wallet_ops $(q -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'w_1'::regclass"), pg_partman $(q -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'p_1'::regclass") (both including the default partition)"

# 2. Maintenance with nothing to do, on one table each, 10 runs per rep.
for i in $(seq 1 "$reps"); do
  q <<SQL
DO \$\$
DECLARE t0 timestamptz;
BEGIN
    FOR k IN 1..10 LOOP
        t0 := clock_timestamp();
        PERFORM count(*) FROM wallet_ops.run_maintenance('w_1');
        INSERT INTO timings VALUES ($i, 'idle run wallet_ops', extract(epoch FROM clock_timestamp() - t0) * 1000);
        t0 := clock_timestamp();
        PERFORM partman.run_maintenance('public.p_1', p_jobmon => false);
        INSERT INTO timings VALUES ($i, 'idle run pg_partman', extract(epoch FROM clock_timestamp() - t0) * 1000);
    END LOOP;
END \$\$;
SQL
done
echo "idle run made nothing: $(q -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'w_1'::regclass") partitions of w_1"

# 2b. The no-op pass over every managed table, with 10 and 100 of them,
# each call in a fresh session (the way a pool worker, which connects for
# each tick, or cron calls it), after one warm-up call of each tool in the
# same database; \timing excludes the connection itself.
for n in 10 100; do
  as_pg psql -h "$run" -p $port -d postgres -qc "CREATE DATABASE many_$n"
  qn() { as_pg psql -h "$run" -p $port -d "many_$n" -X -qAt -v ON_ERROR_STOP=1 "$@"; }
  qn >/dev/null <<SQL
CREATE EXTENSION wallet_ops;
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
DO \$\$
BEGIN
    FOR k IN 1..$n LOOP
        EXECUTE format('CREATE TABLE w_%s (id bigint NOT NULL, at timestamptz NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)', k);
        EXECUTE format('CREATE TABLE p_%s (id bigint NOT NULL, at timestamptz NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)', k);
        PERFORM count(*) FROM wallet_ops.manage_partitions(format('w_%s', k)::regclass, 'month', 4);
        PERFORM partman.create_parent(format('public.p_%s', k), 'at', 'native', 'monthly', p_premake => 4,
                                      p_start_partition => to_char(date_trunc('month', now()), 'YYYY-MM-DD'));
    END LOOP;
END \$\$;
SQL
  call_ms() { qn -c '\timing on' -c "$1" | awk '/^Time: / { print $2 }'; }
  call_ms "SELECT count(*) FROM wallet_ops.run_maintenance()" >/dev/null
  call_ms "SELECT partman.run_maintenance(p_jobmon => false)" >/dev/null
  ours=(); theirs=()
  for i in $(seq 1 "$reps"); do
    ours+=("$(call_ms "SELECT count(*) FROM wallet_ops.run_maintenance()")")
    theirs+=("$(call_ms "SELECT partman.run_maintenance(p_jobmon => false)")")
  done
  om=$(printf '%s\n' "${ours[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  tm=$(printf '%s\n' "${theirs[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  echo "no-op pass over $n managed tables, fresh session per call: wallet_ops ${om} ms ($(awk -v a="$om" -v n="$n" 'BEGIN { printf "%.2f", a / n }') ms per table), pg_partman ${tm} ms ($(awk -v a="$tm" -v n="$n" 'BEGIN { printf "%.2f", a / n }') ms per table); ratio $(awk -v a="$om" -v b="$tm" 'BEGIN { printf "%.3f", a / b }')  target <= 0.1"
done

# Ratios: per rep, wallet_ops / pg_partman of that rep's medians (the two
# are measured back to back, so load from other processes hits both); the
# median of those is the figure, the ratio of the minimums a cross-check.
q <<'SQL'
SELECT rpad(what, 22) || lpad(to_char(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), 'FM99990.000'), 10)
       || ' ms median, ' || lpad(to_char(min(ms), 'FM99990.000'), 10) || ' ms min (' || count(*) || ' runs)'
  FROM timings GROUP BY what ORDER BY what;
WITH per_rep AS (
    SELECT rep, split_part(what, ' ', 1) || CASE WHEN what LIKE 'idle%' THEN ' run' ELSE '' END AS test,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE what LIKE '%wallet_ops') AS ours,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE what LIKE '%pg_partman') AS theirs
      FROM timings GROUP BY 1, 2
)
SELECT 'ratio ' || rpad(test, 9) || ' wallet_ops / pg_partman = '
       || to_char(percentile_cont(0.5) WITHIN GROUP (ORDER BY ours / theirs), 'FM0.000')
       || ' (median of ' || count(*) || ' reps; ratio of minimums '
       || to_char(min(ours) / min(theirs), 'FM0.000') || ')  target <= '
       || CASE WHEN test = 'create' THEN '0.5' ELSE '0.25' END
  FROM per_rep GROUP BY test ORDER BY test;
SELECT 'create, each rep (wallet_ops / pg_partman / plain DDL ms, who went first): '
       || string_agg(format('%s/%s/%s%s', round(o.ms), round(t.ms), round(d.ms),
                            (ARRAY['d', 'w', 'p'])[o.rep % 3 + 1]), ' ' ORDER BY o.rep)
  FROM timings o JOIN timings t USING (rep) JOIN timings d USING (rep)
 WHERE o.what = 'create wallet_ops' AND t.what = 'create pg_partman' AND d.what = 'create plain DDL';
WITH per_rep AS (
    SELECT rep, max(ms) FILTER (WHERE what = 'create wallet_ops') AS ours,
           max(ms) FILTER (WHERE what = 'create pg_partman') AS theirs,
           max(ms) FILTER (WHERE what = 'create plain DDL') AS plain
      FROM timings WHERE what LIKE 'create%' GROUP BY rep
)
SELECT 'ratio create    plain DDL / pg_partman = '
       || to_char(percentile_cont(0.5) WITHIN GROUP (ORDER BY plain / theirs), 'FM0.000')
       || ' (PostgreSQL''s own floor for the same partitions); wallet_ops / plain DDL = '
       || to_char(percentile_cont(0.5) WITHIN GROUP (ORDER BY ours / plain), 'FM0.000')
  FROM per_rep;
SQL

# 3. The idle launcher (and a worker, should one be ticking), naptime 60, over $idle_secs s.
pids=$(q -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE backend_type IN ('wallet_ops launcher', 'wallet_ops worker')")
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
declare -A before
for p in $pids; do before[$p]=$(cpu "$p"); done
sleep "$idle_secs"
hz=$(getconf CLK_TCK)
for p in $pids; do
  t=$(q -c "SELECT backend_type FROM pg_stat_activity WHERE pid = $p")
  echo "idle $t (pid $p): $(( $(cpu "$p") - ${before[$p]} )) clock ticks of CPU in ${idle_secs} s (1 tick = 1/${hz} s)"
done
