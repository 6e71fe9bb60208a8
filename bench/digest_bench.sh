#!/usr/bin/env bash
# Benchmark of signed digests (bench/README.md, section "Signed digests").
#
#   sudo bash bench/digest_bench.sh                 # 10,000 chains
#   sudo CHAINS=100000 bash bench/digest_bench.sh
#
# Starts a scratch cluster of its own with a hash-chained table of CHAINS
# chains (ROWS_PER_CHAIN rows each) and prints, as ratios to taking the
# digest (wallet_ops.chain_digest, timed inside the server, median of RUNS
# loops of LOOPS calls):
#
#   (a) signing it: wallet_ops_verify digest --sign-key minus wallet_ops_verify
#       digest, end to end (median of RUNS x LOOPS runs each; includes
#       reading the key file), and OpenSSL's own Ed25519 sign rate;
#   (b) checking the signature: verify_against_digest of the signed digest
#       minus that of the same digest unsigned (median), and OpenSSL's own
#       Ed25519 verify rate (the server does one verification and one key
#       lookup per digest).
#
# Environment: CHAINS (10000), ROWS_PER_CHAIN (2), RUNS (5), LOOPS (20),
# PG_CONFIG, PORT (55497).  No figure is asserted.
set -euo pipefail

CHAINS=${CHAINS:-10000}
ROWS_PER_CHAIN=${ROWS_PER_CHAIN:-2}
RUNS=${RUNS:-5}
LOOPS=${LOOPS:-20}
PORT=${PORT:-55497}

if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env=PG_CONFIG,CHAINS,ROWS_PER_CHAIN,RUNS,LOOPS,PORT,SKIP_BUILD bash "$0" "$@"
fi

. "$(dirname "$0")/lib.sh"

bench_build || { echo "build failed" >&2; exit 1; }
bench_initdb "$PORT"
trap bench_stop EXIT
chmod 755 "$run"
echo "wallet_ops.naptime = 3600" >> "$run/data/postgresql.conf"
bench_start

PSQL=(runuser -u postgres -- "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$run" -p "$PORT" -d postgres)
VERIFY=(runuser -u postgres -- "$bindir/wallet_ops_verify")
CONN="host=$run port=$PORT dbname=postgres"
sql() { "${PSQL[@]}" -At -c "$1"; }
now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

sql "CREATE EXTENSION wallet_ops"
sql "CREATE TABLE ledger (entity_id bigint NOT NULL, memo text)"
sql "SELECT wallet_ops.enable_hash_chain('ledger', '{entity_id}')"
sql "INSERT INTO ledger SELECT g % $CHAINS, 'row ' || g FROM generate_series(1, $CHAINS * $ROWS_PER_CHAIN) g"
as_pg "$bindir/wallet_ops_verify" keygen "$run/k" >/dev/null
sql "SELECT wallet_ops.trust_digest_key('bench', \$k\$$(cat "$run/k.pub")\$k\$)" >/dev/null

# milliseconds per call of $1, timed inside the server over LOOPS calls
server_ms() {
  sql "DO \$\$DECLARE t0 timestamptz := clock_timestamp(); BEGIN
         FOR i IN 1..$LOOPS LOOP PERFORM $1; END LOOP;
         RAISE NOTICE '%', 1000 * extract(epoch FROM clock_timestamp() - t0) / $LOOPS; END\$\$" 2>&1 |
    sed -n 's/^NOTICE:  //p'
}
# milliseconds per run of the command, over LOOPS runs
cmd_ms() {
  local t0 t1 i
  t0=$(now)
  for ((i = 0; i < LOOPS; i++)); do "$@" >/dev/null; done
  t1=$(now)
  awk -v a="$t0" -v b="$t1" -v n="$LOOPS" 'BEGIN { printf "%.3f", 1000 * (b - a) / n }'
}

"${VERIFY[@]}" digest --sign-key "$run/k.key" -o "$run/signed.json" "$CONN" ledger
"${VERIFY[@]}" digest -o "$run/unsigned.json" "$CONN" ledger
sql "CREATE TABLE digests AS SELECT pg_read_file('$run/signed.json')::jsonb AS signed, pg_read_file('$run/unsigned.json')::jsonb AS unsigned"

take=() sign=() check=()
for ((r = 0; r < RUNS; r++)); do
  take+=("$(server_ms "wallet_ops.chain_digest('ledger')")")
  u=$(cmd_ms "${VERIFY[@]}" digest "$CONN" ledger)
  s=$(cmd_ms "${VERIFY[@]}" digest --sign-key "$run/k.key" "$CONN" ledger)
  sign+=("$(awk -v a="$s" -v b="$u" 'BEGIN { printf "%.3f", a - b }')")
  vu=$(server_ms "(SELECT count(*) FROM wallet_ops.verify_against_digest('ledger', (SELECT unsigned FROM digests)))")
  vs=$(server_ms "(SELECT count(*) FROM wallet_ops.verify_against_digest('ledger', (SELECT signed FROM digests)))")
  check+=("$(awk -v a="$vs" -v b="$vu" 'BEGIN { printf "%.3f", a - b }')")
done
tk=$(median "${take[@]}") sg=$(median "${sign[@]}") ck=$(median "${check[@]}")
ossl=$(openssl speed -seconds 1 ed25519 2>/dev/null | awk '/EdDSA \(Ed25519\)/ { s = $(NF-1); v = $NF } END { printf "%.4f %.4f", 1000 / s, 1000 / v }')
osign=${ossl% *} ocheck=${ossl#* }

echo "wallet_ops signed digest benchmark: $CHAINS chains, $((CHAINS * ROWS_PER_CHAIN)) rows, median of $RUNS x $LOOPS; $(nproc) cores, $(date -u +%FT%TZ)"
printf '  taking the digest (chain_digest, in the server)   %8.3f ms\n' "$tk"
printf '  signing, end to end (digest --sign-key - digest)  %8.3f ms   ratio %.4f\n' "$sg" "$(awk -v a="$sg" -v b="$tk" 'BEGIN { print a / b }')"
printf '  signing, OpenSSL Ed25519 sign                      %8.4f ms   ratio %.4f\n' "$osign" "$(awk -v a="$osign" -v b="$tk" 'BEGIN { print a / b }')"
printf '  checking, in verify_against_digest (signed - not)  %8.3f ms   ratio %.4f\n' "$ck" "$(awk -v a="$ck" -v b="$tk" 'BEGIN { print a / b }')"
printf '  checking, OpenSSL Ed25519 verify                   %8.4f ms   ratio %.4f\n' "$ocheck" "$(awk -v a="$ocheck" -v b="$tk" 'BEGIN { print a / b }')"
