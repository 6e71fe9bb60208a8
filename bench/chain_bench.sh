#!/usr/bin/env bash
# Benchmarks of hash-chained tables (bench/README.md, section "Ledger").
#
#   sudo bash bench/chain_bench.sh            # 1,000,000 rows, ~8 minutes
#   sudo ROWS=200000 bash bench/chain_bench.sh
#
# Starts a scratch cluster of its own (initdb into a temporary directory
# owned by postgres, shared_buffers large enough for the data), builds an
# entity_history-like table partitioned by month (ROWS rows over ENTITIES
# entities, ~200-byte jsonb payload), prints ratios measured in this one run
# against peers measured in the same run, then stops and removes the
# cluster.  Timings are the median of RUNS runs.
#
#   (a) verify_chain vs a naive pgcrypto SQL verifier (lag() window)
#   (b) verify_chain vs the floor: one pass hashing each row once, sha256()
#       (and wallet_ops_verify, serial and --jobs 2)
#   (c) bulk INSERT ... SELECT: chained vs unchained (and a PL/pgSQL +
#       pgcrypto trigger doing the same job)
#   (d) pgbench, CLIENTS clients, single-row inserts on random entities:
#       chained vs unchained rate, and verify_chain clean afterwards
#   (e) peak private memory of the verifying backend, ROWS/10 vs ROWS rows
#       (and of wallet_ops_verify, the client)
#
# Environment: ROWS (1000000), ENTITIES (10000), INSERT_ROWS (ROWS/4),
# RUNS (3), PGBENCH_SECONDS (30), CLIENTS (8), PG_CONFIG, SHARED_BUFFERS
# (1GB), PORT (55499), HUGE_PAGES (auto: reserve huge pages for the scratch
# cluster's shared memory if the kernel lets us, and give them back at the
# end; off: 4 kB pages).
set -euo pipefail

ROWS=${ROWS:-1000000}
ENTITIES=${ENTITIES:-10000}
INSERT_ROWS=${INSERT_ROWS:-$((ROWS / 4))}
RUNS=${RUNS:-3}
PGBENCH_SECONDS=${PGBENCH_SECONDS:-30}
CLIENTS=${CLIENTS:-8}
SHARED_BUFFERS=${SHARED_BUFFERS:-1GB}
PORT=${PORT:-55499}

if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env=PG_CONFIG,ROWS,ENTITIES,INSERT_ROWS,RUNS,PGBENCH_SECONDS,CLIENTS,SHARED_BUFFERS,PORT,HUGE_PAGES,SKIP_BUILD bash "$0" "$@"
fi

. "$(dirname "$0")/lib.sh"

bench_build || { echo "build failed" >&2; exit 1; }
bench_initdb "$PORT"
trap bench_stop EXIT
chmod 755 "$run"

# Huge pages for shared memory, as PostgreSQL's documentation recommends for
# shared_buffers this large.  With 4 kB pages every new session first
# page-faults in each shared buffer it reads (about 0.3 s for the 452 MB
# table here, paid alike by every contender timed in a fresh session).
bench_huge_pages "$SHARED_BUFFERS"

cat >> "$run/data/postgresql.conf" <<EOF
wallet_ops.naptime = 3600
shared_buffers = '$SHARED_BUFFERS'
huge_pages = $huge_pages
work_mem = '64MB'
maintenance_work_mem = '256MB'
max_wal_size = '8GB'
checkpoint_timeout = '30min'
# a scratch cluster: durability is not what is measured
fsync = off
synchronous_commit = off
full_page_writes = off
# every contender runs in one process
max_parallel_workers_per_gather = 0
jit = off
max_connections = 40
EOF
bench_start

PSQL=(runuser -u postgres -- "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$run" -p "$PORT" -d postgres)
sql() { "${PSQL[@]}" -At -c "$1"; }
now() { date +%s.%N; }
# seconds taken by one SQL statement (a fresh session each time)
timed() {
  local t0 t1
  t0=$(now)
  "${PSQL[@]}" -c "$1" >/dev/null
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
# seconds taken by one SQL statement in a session that has already read the
# table once: without the first touch of every shared buffer by a new
# backend (page faults of the shared memory mapping, about 0.2 s per
# 450 MB here), which every contender pays alike in a fresh session
warm_timed() {
  "${PSQL[@]}" -c "SELECT count(*) FROM bench.entity_history" -c '\timing on' -c "$1" |
    awk '/^Time: / { printf "%.3f", $2 / 1000 }'
}
# cores_busy CMD...: runs CMD and prints how many cores the whole machine
# kept busy on average meanwhile (/proc/stat), i.e. what a parallel run on
# these cores can gain at most: cores / that
cores_busy() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  "$@" >/dev/null
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.2f", (y[1] - x[1]) / (y[2] - x[2]) * n }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "wallet_ops ledger benchmark: $ROWS rows, $ENTITIES entities, inserts of $INSERT_ROWS rows," \
  "median of $RUNS runs, pgbench $CLIENTS clients x ${PGBENCH_SECONDS}s; $(nproc) cores, huge pages $huge_pages, $(date -u +%FT%TZ)"

# ---- data ------------------------------------------------------------------
t0=$(now)
"${PSQL[@]}" -o /dev/null <<EOF
CREATE EXTENSION wallet_ops;
CREATE EXTENSION pgcrypto;
CREATE SCHEMA bench;
-- the rows, generated once: entity n's uuid, a ~200-byte payload, a time in 2025
CREATE UNLOGGED TABLE bench.src AS
SELECT g, ('00000000-0000-4000-8000-' || lpad(to_hex(1 + g % $ENTITIES), 12, '0'))::uuid AS entity_id,
       jsonb_build_object('event', (ARRAY['deposit', 'withdrawal', 'transfer', 'fee'])[1 + g % 4],
                          'amount', round((g % 100000) / 100.0, 2),
                          'currency', 'EUR',
                          'counterparty', jsonb_build_object('name', 'Zoë Ørsted-Müller', 'iban', 'DE89370400440532013000'),
                          'reference', md5(g::text),
                          'channel', 'api') AS payload,
       timestamptz '2025-01-01 00:00+00' + (g::float8 / $ROWS) * interval '364 days' AS changed_at
  FROM generate_series(1, $ROWS) g;
-- the seed's entity_history, partitioned by month
CREATE FUNCTION bench.make_table(name text, chained boolean, bare boolean DEFAULT false,
                                 chain_index boolean DEFAULT true) RETURNS void LANGUAGE plpgsql AS \$\$
BEGIN
  EXECUTE format('CREATE TABLE bench.%I (
      history_id bigint GENERATED ALWAYS AS IDENTITY,
      entity_id  uuid NOT NULL,
      payload    jsonb NOT NULL,
      changed_at timestamptz NOT NULL,
      PRIMARY KEY (history_id, changed_at)) PARTITION BY RANGE (changed_at)', name);
  FOR m IN 0..11 LOOP
    EXECUTE format('CREATE TABLE bench.%I PARTITION OF bench.%I FOR VALUES FROM (%L) TO (%L)',
                   name || '_' || to_char(timestamptz '2025-01-01 00:00+00' + m * interval '1 month', 'YYYY_MM'), name,
                   timestamptz '2025-01-01 00:00+00' + m * interval '1 month',
                   timestamptz '2025-01-01 00:00+00' + (m + 1) * interval '1 month');
  END LOOP;
  IF chained THEN
    PERFORM wallet_ops.enable_hash_chain(format('bench.%I', name)::regclass, '{entity_id}',
                                         chain_index => chain_index);
  ELSIF NOT bare THEN
    -- the same columns and index, without the chain
    EXECUTE format('ALTER TABLE bench.%I ADD chain_seq bigint, ADD prev_hash bytea, ADD row_hash bytea', name);
    EXECUTE format('CREATE INDEX ON bench.%I (entity_id, chain_seq)', name);
  END IF;
END \$\$;
-- what a DBA writes without wallet_ops: a PL/pgSQL trigger and pgcrypto
CREATE TABLE bench.naive_heads (entity_id uuid PRIMARY KEY, last_seq bigint NOT NULL, last_hash bytea NOT NULL);
CREATE FUNCTION bench.naive_chain() RETURNS trigger LANGUAGE plpgsql AS \$\$
DECLARE h bench.naive_heads;
BEGIN
  SELECT * INTO h FROM bench.naive_heads WHERE entity_id = NEW.entity_id FOR UPDATE;
  IF NOT FOUND THEN
    h := ROW(NEW.entity_id, 0, digest(NEW.entity_id::text, 'sha256'));
    INSERT INTO bench.naive_heads VALUES (h.*);
  END IF;
  NEW.chain_seq := h.last_seq + 1;
  NEW.prev_hash := h.last_hash;
  NEW.row_hash := digest(NEW.prev_hash || convert_to(ROW(NEW.history_id, NEW.entity_id, NEW.payload, NEW.changed_at)::text, 'UTF8'), 'sha256');
  UPDATE bench.naive_heads SET last_seq = NEW.chain_seq, last_hash = NEW.row_hash WHERE entity_id = NEW.entity_id;
  RETURN NEW;
END \$\$;
SELECT bench.make_table('entity_history', true);
EOF
load=$(timed "INSERT INTO bench.entity_history (entity_id, payload, changed_at) SELECT entity_id, payload, changed_at FROM bench.src ORDER BY g")
"${PSQL[@]}" -o /dev/null -c "VACUUM ANALYZE bench.entity_history" -c "SELECT bench.make_table('eh_small', true)" \
  -c "INSERT INTO bench.eh_small (entity_id, payload, changed_at) SELECT entity_id, payload, changed_at FROM bench.src WHERE (g / $ENTITIES) % 10 = 0 ORDER BY g" \
  -c "VACUUM ANALYZE bench.eh_small"
size=$(sql "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid WHERE i.inhparent = 'bench.entity_history'::regclass")
small_rows=$(sql "SELECT count(*) FROM bench.eh_small")
echo "data: $ROWS chained rows in $size (loaded in ${load}s through the trigger); small table $small_rows rows; setup $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }')s"
# warm the cache for everyone
sql "SELECT count(*) FROM bench.entity_history" >/dev/null
sql "SELECT count(*) FROM bench.entity_history" >/dev/null

# ---- (a) and (b): verification -------------------------------------------
VERIFY="SELECT count(*) FROM wallet_ops.verify_chain('bench.entity_history')"
NAIVE="SELECT count(*) FROM (
  SELECT t.prev_hash, t.row_hash,
         lag(t.row_hash) OVER (PARTITION BY t.entity_id ORDER BY t.chain_seq) AS expected_prev,
         digest(t.prev_hash || convert_to(ROW(t.history_id, t.entity_id, t.payload, t.changed_at)::text, 'UTF8'), 'sha256') AS recomputed
    FROM bench.entity_history t) s
 WHERE s.recomputed <> s.row_hash OR s.prev_hash IS DISTINCT FROM s.expected_prev"
FLOOR="SELECT count(*) FROM bench.entity_history t
 WHERE sha256(convert_to(ROW(t.history_id, t.entity_id, t.payload, t.changed_at)::text, 'UTF8')) IS NOT NULL"
# the same bytes as a chained row's message, in binary form, hashed once per
# row in one sequential pass: no links, no order, no chains
BINFLOOR="SELECT count(*) FROM bench.entity_history t
 WHERE sha256(t.prev_hash || int8send(t.chain_seq) || int8send(t.history_id) || uuid_send(t.entity_id)
              || jsonb_send(t.payload) || timestamptz_send(t.changed_at)) IS NOT NULL"
VERIFY2="SELECT count(*) FROM wallet_ops.verify_chain('bench.entity_history', NULL, 2)"
# PostgreSQL's own parallel query on the same pass, one worker beside the
# leader: what two processes gain on this machine for this kind of work
PARALLEL_ON="SET max_parallel_workers_per_gather = 1; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;"
problems=$(sql "$VERIFY")
[ "$problems" = 0 ] || { echo "verify_chain found $problems problems on fresh data" >&2; exit 1; }
v=(); n=(); f=(); c=(); cj=(); vw=(); nw=(); fw=(); v2=(); v2w=(); bf=(); bfw=(); bfpw=()
for i in $(seq "$RUNS"); do
  v+=("$(timed "$VERIFY")")
  v2+=("$(timed "$VERIFY2")")
  bf+=("$(timed "$BINFLOOR")")
  v2w+=("$(warm_timed "$VERIFY2")")
  bfw+=("$(warm_timed "$BINFLOOR")")
  bfpw+=("$(warm_timed "$PARALLEL_ON $BINFLOOR")")
  n+=("$(timed "$NAIVE")")
  f+=("$(timed "$FLOOR")")
  vw+=("$(warm_timed "$VERIFY")")
  nw+=("$(warm_timed "$NAIVE")")
  fw+=("$(warm_timed "$FLOOR")")
  t0=$(now)
  runuser -u postgres -- "$top/tools/wallet_ops_verify" -q -h "$run" -p "$PORT" postgres bench.entity_history >/dev/null
  c+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')")
  t0=$(now)
  runuser -u postgres -- "$top/tools/wallet_ops_verify" -q --jobs 2 -h "$run" -p "$PORT" postgres bench.entity_history >/dev/null
  cj+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')")
done
vm=$(median "${v[@]}"); nm=$(median "${n[@]}"); fm=$(median "${f[@]}"); cm=$(median "${c[@]}"); cjm=$(median "${cj[@]}")
# how many cores a serial run keeps busy: the ceiling of a parallel one
busy_v=$(cores_busy timed "$VERIFY")
busy_c=$(cores_busy runuser -u postgres -- "$top/tools/wallet_ops_verify" -q -h "$run" -p "$PORT" postgres bench.entity_history)
vwm=$(median "${vw[@]}"); nwm=$(median "${nw[@]}"); fwm=$(median "${fw[@]}")
v2m=$(median "${v2[@]}"); v2wm=$(median "${v2w[@]}"); bfm=$(median "${bf[@]}"); bfwm=$(median "${bfw[@]}")
bfpwm=$(median "${bfpw[@]}")
# The machine's own reference, outside PostgreSQL: OpenSSL's SHA-256 of
# 256-byte messages (about a row's message) in one process and in two side
# by side, wall-clock throughput.  Nothing shared, no memory to read: what
# two processes hashing can gain on these cores at best.
sha_speed() {
  openssl speed -elapsed -seconds 3 -bytes 256 "$@" -evp sha256 2>/dev/null |
    awk '$1 == "sha256" { sub(/k$/, "", $2); print $2 }'
}
sha1=$(sha_speed); sha2=$(sha_speed -multi 2)
echo
echo "(a) each in a fresh session: verify_chain ${vm}s (runs ${v[*]}), naive pgcrypto + lag() verifier ${nm}s (runs ${n[*]})"
echo "    verify_chain is $(ratio "$nm" "$vm")x faster than the naive verifier          [target >= 4x]"
echo "    each in a session that has read the table: verify_chain ${vwm}s (runs ${vw[*]}), naive ${nwm}s (runs ${nw[*]}),"
echo "    floor ${fwm}s (runs ${fw[*]}): verify_chain $(ratio "$nwm" "$vwm")x faster than the naive verifier, $(ratio "$vwm" "$fwm") of the floor"
echo "(b) floor, one sha256() per row ${fm}s (runs ${f[*]})"
echo "    verify_chain / floor = $(ratio "$vm" "$fm")                                     [target <= 1.25]"
echo "    wallet_ops_verify (outside the server, same rows) ${cm}s (runs ${c[*]}) = $(ratio "$cm" "$vm")x verify_chain"
echo "    wallet_ops_verify --jobs 2 ${cjm}s (runs ${cj[*]}): speed-up over serial $(ratio "$cm" "$cjm")x   [target >= 1.8]"
echo "    cores kept busy by a serial run (whole machine, /proc/stat): verify_chain ${busy_v}, wallet_ops_verify ${busy_c}"
echo "    (server and client); the most $(nproc) cores can give: verify_chain $(ratio "$(nproc)" "$busy_v")x, wallet_ops_verify $(ratio "$(nproc)" "$busy_c")x"
echo "    binary floor, sha256 of each row's message bytes in binary form ${bfm}s fresh (runs ${bf[*]}), ${bfwm}s warm (runs ${bfw[*]}):"
echo "    verify_chain throughput / binary floor's = $(ratio "$bfm" "$vm") fresh, $(ratio "$bfwm" "$vwm") warm   [target >= 0.8]"
echo "    verify_chain with 2 jobs ${v2m}s fresh (runs ${v2[*]}), ${v2wm}s warm (runs ${v2w[*]}):"
echo "    speed-up over 1 job $(ratio "$vm" "$v2m")x fresh, $(ratio "$vwm" "$v2wm")x warm   [target >= 1.8]; naive / 2 jobs = $(ratio "$nm" "$v2m")x"
echo "    PostgreSQL's parallel query, binary floor with 1 worker beside the leader: ${bfpwm}s warm (runs ${bfpw[*]}),"
echo "    speed-up $(ratio "$bfwm" "$bfpwm")x: what 2 processes gain on this machine; verify_chain's 2 jobs reach $(awk -v a="$vwm" -v b="$v2wm" -v c="$bfwm" -v d="$bfpwm" 'BEGIN { printf "%.2f", (a / b) / (c / d) }') of it"
echo "    OpenSSL's SHA-256 of 256-byte messages, 2 processes / 1 (openssl speed -elapsed -multi 2): $(ratio "$sha2" "$sha1")x"
echo "    (${sha1} / ${sha2} kB/s): the most two cores give pure hashing here; verify_chain's 2 jobs reach $(awk -v a="$vwm" -v b="$v2wm" -v c="$sha1" -v d="$sha2" 'BEGIN { printf "%.2f", (a / b) / (d / c) }') of it"

# ---- (c) bulk INSERT ... SELECT ---------------------------------------------
ci=(); ui=(); pi=(); bi=(); ni=()
for i in $(seq "$RUNS"); do
  sql "SELECT bench.make_table('ins_c$i', true); SELECT bench.make_table('ins_u$i', false); SELECT bench.make_table('ins_p$i', false);
       SELECT bench.make_table('ins_n$i', true, false, false);
       SELECT bench.make_table('ins_b$i', false, true);
       CREATE TRIGGER naive BEFORE INSERT ON bench.ins_p$i FOR EACH ROW EXECUTE FUNCTION bench.naive_chain();
       TRUNCATE bench.naive_heads; CHECKPOINT" >/dev/null
  ins="(entity_id, payload, changed_at) SELECT entity_id, payload, changed_at FROM bench.src WHERE (g / $ENTITIES) % $((ROWS / INSERT_ROWS)) = 0 ORDER BY g"
  # each insert starts from clean shared buffers (a checkpoint, not timed),
  # so none pays for writing out what the one before it dirtied; and the
  # order is reversed every other run, so none is always measured first
  order="u b c n p"
  [ $((i % 2)) = 0 ] && order="p n c b u"
  for k in $order; do
    sql "CHECKPOINT" >/dev/null
    t=$(timed "INSERT INTO bench.ins_$k$i $ins")
    case $k in u) ui+=("$t") ;; b) bi+=("$t") ;; c) ci+=("$t") ;; n) ni+=("$t") ;; p) pi+=("$t") ;; esac
  done
done
inserted=$(sql "SELECT count(*) FROM bench.ins_c1")
cim=$(median "${ci[@]}"); uim=$(median "${ui[@]}"); pim=$(median "${pi[@]}"); bim=$(median "${bi[@]}"); nim=$(median "${ni[@]}")
echo
echo "(c) INSERT ... SELECT of $inserted rows: chained ${cim}s (runs ${ci[*]}), unchained ${uim}s (runs ${ui[*]}),"
echo "    PL/pgSQL + pgcrypto trigger ${pim}s (runs ${pi[*]})"
echo "    chained / unchained = $(ratio "$cim" "$uim")                                      [target <= 1.5]"
echo "    unchained without the chain's columns and index ${bim}s (runs ${bi[*]}): chained / that = $(ratio "$cim" "$bim")"
echo "    chained with chain_index => false ${nim}s (runs ${ni[*]}): / unchained without the chain's columns and index = $(ratio "$nim" "$bim")   [target <= 1.5]"
echo "    PL/pgSQL trigger / unchained = $(ratio "$pim" "$uim"); PL/pgSQL / chained = $(ratio "$pim" "$cim")"

# ---- (d) pgbench: single-row inserts on random entities -------------------------
sql "SELECT bench.make_table('pgb_c', true); SELECT bench.make_table('pgb_u', false);
     SELECT bench.make_table('pgb_b', false, true); SELECT bench.make_table('pgb_n', true, false, false); CHECKPOINT" >/dev/null
for t in pgb_c pgb_u pgb_b pgb_n; do
  cat > "$run/$t.sql" <<EOF
\\set e random(1, $ENTITIES)
INSERT INTO bench.$t (entity_id, payload, changed_at) VALUES (('00000000-0000-4000-8000-' || lpad(to_hex(:e), 12, '0'))::uuid, '{"event": "deposit", "amount": 12.5, "currency": "EUR", "counterparty": {"name": "Zoë Ørsted-Müller", "iban": "DE89370400440532013000"}, "reference": "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "channel": "api"}', timestamptz '2025-06-01 00:00+00' + :e * interval '1 minute');
EOF
  chown postgres: "$run/$t.sql"
done
tps() {
  runuser -u postgres -- "$bindir/pgbench" -n -h "$run" -p "$PORT" -c "$CLIENTS" -j 2 -T "$PGBENCH_SECONDS" -f "$run/$1.sql" postgres 2>/dev/null |
    awk -F'= ' '/^tps/ { split($2, a, " "); print a[1]; exit }'
}
# in one order, then the other (later runs meet a fuller WAL and more
# checkpoint work): the mean of the two
declare -A t1 t2
for t in pgb_u pgb_c pgb_b pgb_n; do t1[$t]=$(tps $t); done
for t in pgb_n pgb_b pgb_c pgb_u; do t2[$t]=$(tps $t); done
mean() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (a + b) / 2 }'; }
tu=$(mean "${t1[pgb_u]}" "${t2[pgb_u]}")
tc=$(mean "${t1[pgb_c]}" "${t2[pgb_c]}")
tb=$(mean "${t1[pgb_b]}" "${t2[pgb_b]}")
tn=$(mean "${t1[pgb_n]}" "${t2[pgb_n]}")
pgb_rows=$(sql "SELECT count(*) FROM bench.pgb_c")
pgb_problems=$(sql "SELECT count(*) FROM wallet_ops.verify_chain('bench.pgb_c')")
echo
echo "(d) pgbench $CLIENTS clients, ${PGBENCH_SECONDS}s each, twice (in one order, then the other), one-row INSERT transactions on random entities:"
echo "    unchained $tu tps, chained $tc tps: chained / unchained = $(ratio "$tc" "$tu")   [target >= 0.6]"
echo "    unchained without the chain's columns and index $tb tps: chained / that = $(ratio "$tc" "$tb"),"
echo "    chained with chain_index => false $tn tps: / that = $(ratio "$tn" "$tb")   [target >= 0.6]"
echo "    verify_chain after $pgb_rows chained rows: $pgb_problems problems"

# ---- (e) memory of a verification ------------------------------------------------
# The private (anonymous) memory of the verifying backend, RssAnon in
# /proc/PID/status, sampled every few milliseconds while verify_chain runs;
# shared buffers are shared memory and are not counted.  Prints
# "peak idle" in kB, idle being the same session just before.
peak_backend() {
  local fifo="$run/mem.fifo" out="$run/mem.out" pid base peak=0 v job
  rm -f "$fifo" "$out"
  mkfifo "$fifo"
  chown postgres: "$fifo"
  "${PSQL[@]}" -At <"$fifo" >"$out" &
  job=$!
  exec 3>"$fifo"
  echo "SELECT pg_backend_pid(); SELECT 'ready';" >&3
  until grep -q '^ready$' "$out" 2>/dev/null; do sleep 0.02; done
  pid=$(head -1 "$out")
  base=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status")
  echo "SELECT count(*) FROM wallet_ops.verify_chain('$1'); SELECT 'done';" >&3
  # sample with shell builtins only (no fork), well under a millisecond apart
  local k val lines=()
  while :; do
    while read -r k val _; do
      [[ $k == RssAnon: ]] && { ((val > peak)) && peak=$val; break; }
    done <"/proc/$pid/status"
    mapfile -t lines <"$out"
    if ((${#lines[@]} > 0)) && [[ ${lines[${#lines[@]} - 1]} == done ]]; then break; fi
  done
  echo "\\q" >&3
  exec 3>&-
  wait "$job"
  echo "$peak $base"
}
# Peak RSS of wallet_ops_verify (a client: no shared memory to discount).
peak_client() {
  /usr/bin/time -f %M runuser -u postgres -- "$top/tools/wallet_ops_verify" -q -h "$run" -p "$PORT" postgres "$1" 2>&1 >/dev/null | tail -1
}
read -r ms msb <<<"$(peak_backend bench.eh_small)"
read -r ml mlb <<<"$(peak_backend bench.entity_history)"
cs=$(peak_client bench.eh_small); cl=$(peak_client bench.entity_history)
echo
small_chains=$(sql "SELECT count(DISTINCT entity_id) FROM bench.eh_small")
echo "(e) private memory (RssAnon) of the backend while verify_chain runs: peak ${ms} kB (idle ${msb}) for $small_rows rows,"
echo "    peak ${ml} kB (idle ${mlb}) for $ROWS rows: ratio $(ratio "$ml" "$ms") (both $small_chains chains; 1.00 = does not grow)"
echo "    wallet_ops_verify peak RSS: ${cs} kB for $small_rows rows, ${cl} kB for $ROWS rows (ratio $(ratio "$cl" "$cs"))"
echo
echo "done in ${SECONDS}s"
