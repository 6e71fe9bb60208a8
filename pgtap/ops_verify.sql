-- pgTAP: scheduled and incremental verification of hash chains, its
-- record in status, health(), metrics() and job_log, and verified replay.
-- Tampering is done for real, around the chain trigger, with
-- session_replication_role = replica (as a superuser could).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS wallet_ops;
BEGIN;
SELECT plan(50);

CREATE TABLE ops_led (
    id        bigint GENERATED ALWAYS AS IDENTITY,
    account   int NOT NULL,
    amount    numeric NOT NULL,
    booked_at timestamptz NOT NULL
) PARTITION BY RANGE (booked_at);
CREATE TABLE ops_led_2026 PARTITION OF ops_led FOR VALUES FROM ('2026-01-01 00:00+00') TO ('2027-01-01 00:00+00');
CREATE TABLE ops_led_2027 PARTITION OF ops_led FOR VALUES FROM ('2027-01-01 00:00+00') TO ('2028-01-01 00:00+00');
SELECT wallet_ops.enable_hash_chain('ops_led', '{account}');
-- hash-chained tables are append-only: lift that for the tampering below
-- (a superuser can; its WARNING is not part of this test)
SET client_min_messages = error;
SELECT wallet_ops.release_append_only('ops_led');
SET client_min_messages = warning;
-- accounts 1..5, ten entries each, one a day from 2026-01-02
INSERT INTO ops_led (account, amount, booked_at)
SELECT 1 + n % 5, n, timestamptz '2026-01-01 00:00+00' + n * interval '1 day'
  FROM generate_series(1, 50) n;
CREATE TABLE ops_plain (x int);

-- ---- scheduling and its errors --------------------------------------------
SELECT throws_ok($$SELECT wallet_ops.schedule_verification('ops_plain', '1 day')$$, '55000', NULL,
                 'a table that is not hash-chained cannot be scheduled');
SELECT throws_ok($$SELECT wallet_ops.schedule_verification('ops_led', '-1 day')$$, '22023', NULL,
                 'a negative interval is refused');
SELECT throws_ok($$SELECT wallet_ops.schedule_verification('ops_led', NULL)$$, '22004', NULL,
                 'a null interval is refused');
SELECT throws_ok($$SELECT wallet_ops.unschedule_verification('ops_led')$$, '42704', NULL,
                 'unscheduling what is not scheduled is an error');
SELECT throws_ok($$SELECT wallet_ops.schedule_verification('ops_led', '59 minutes')$$, '22023',
                 'verification interval of table "public.ops_led" is shorter than wallet_ops.naptime',
                 'an interval shorter than wallet_ops.naptime (1 hour here) is refused');
SELECT throws_ok($$SELECT wallet_ops.schedule_verification('ops_led', '1 day', full_every => '1 hour')$$, '22023',
                 'full verification interval of table "public.ops_led" is shorter than its verification interval',
                 'a full_every shorter than every is refused');
SELECT lives_ok($$SELECT wallet_ops.schedule_verification('ops_led', '1 day', full_every => '7 days')$$,
                'a weekly full verification of a daily one is accepted');
SELECT lives_ok($$SELECT wallet_ops.schedule_verification('ops_led', '2 days')$$,
                'scheduling again without full_every is accepted');
SELECT is((SELECT full_every FROM wallet_ops.verification_schedule WHERE relid = 'ops_led'::regclass),
          interval '7 days', 'and keeps the full_every set before');
SELECT throws_ok($$SELECT wallet_ops.schedule_verification('ops_led', '8 days')$$, '22023', NULL,
                 'an every longer than the full_every kept is refused');
SELECT lives_ok($$SELECT wallet_ops.unschedule_verification('ops_led')$$, 'unscheduled, to drop the full verifications');
SELECT lives_ok($$SELECT wallet_ops.schedule_verification('ops_led', '1 day')$$, 'ops_led scheduled daily');
SELECT is((SELECT every FROM wallet_ops.verification_schedule WHERE relid = 'ops_led'::regclass),
          interval '1 day', 'the schedule is stored');
SELECT ok(EXISTS (SELECT 1 FROM pg_extension e WHERE e.extname = 'wallet_ops'
                   AND 'wallet_ops.verification_schedule'::regclass = ANY (e.extconfig)),
          'the schedule is kept by pg_dump');
SELECT is((SELECT headline FROM wallet_ops.status WHERE object = 'public.ops_led' AND kind = 'hash_chain'),
          'never verified, every 1 day', 'status: scheduled, never verified');
SELECT is(substring(wallet_ops._metrics_at(now() + interval '3 days')
                    FROM E'\nwallet_ops_chain_audit_age_seconds\\{table="public.ops_led"\\} ([0-9.e+]+)\n')::float8,
          259200::float8, 'metrics(): a table never verified has an audit age, counted from when it was chained');

-- ---- a scheduled verification, run by the maintenance pass ----------------
SELECT results_eq($$SELECT action, detail FROM wallet_ops.run_maintenance('ops_led') WHERE action IN ('verified', 'problems')$$,
                  $$VALUES ('verified', 'full verification, no problems')$$,
                  'run_maintenance() runs the scheduled verification: the first is full and clean');
SELECT is((SELECT last_mode || ' ' || last_result FROM wallet_ops.verification_state WHERE relid = 'ops_led'::regclass),
          'full ok', 'verification_state: full, ok');
SELECT is((SELECT anchor->'row_count' FROM wallet_ops.verification_state WHERE relid = 'ops_led'::regclass),
          '50'::jsonb, 'the anchor is the digest of the 50 rows verified');
SELECT is((SELECT outcome FROM wallet_ops.job_log WHERE object = 'public.ops_led' ORDER BY job_id DESC LIMIT 1),
          'ok', 'job_log records the clean run');
SELECT ok((SELECT last_verified FROM wallet_ops.status WHERE object = 'public.ops_led' AND kind = 'hash_chain') IS NOT NULL,
          'status: last_verified is set');
SELECT is((SELECT c->>'status' FROM jsonb_array_elements(wallet_ops.health()->'checks') c
            WHERE c->>'check' = 'verification' AND c->>'object' = 'public.ops_led'),
          'ok', 'health(): the verification check is ok');

-- ---- incremental: only the rows added since the anchor --------------------
INSERT INTO ops_led (account, amount, booked_at)
SELECT 1 + n % 5, n, timestamptz '2026-03-01 00:00+00' + n * interval '1 hour' FROM generate_series(1, 10) n;
INSERT INTO ops_led (account, amount, booked_at) VALUES (6, 1, '2026-03-02 00:00+00');
SELECT is_empty($$SELECT * FROM wallet_ops.run_verification('ops_led')$$, 'incremental verification of clean new rows finds nothing');
SELECT is((SELECT detail FROM wallet_ops.job_log WHERE object = 'public.ops_led' ORDER BY job_id DESC LIMIT 1),
          'incremental verification, 11 rows read, no problems',
          'incremental: the 10 new rows and the new chain of 1 row are read, nothing else');
CREATE TEMP TABLE ops_anchor AS SELECT wallet_ops.chain_digest('ops_led') AS d;

-- tampering with a row older than the anchor is not seen incrementally,
-- but by a full verification
SET LOCAL session_replication_role = replica;
UPDATE ops_led SET amount = 999 WHERE account = 1 AND chain_seq = 2;
SET LOCAL session_replication_role = origin;
SELECT is_empty($$SELECT * FROM wallet_ops.verify_since_digest('ops_led', (SELECT d FROM ops_anchor))$$,
                'a change to a row before the anchor is outside the incremental verification');
SELECT results_eq($$SELECT chain_key, chain_seq, problem FROM wallet_ops.run_verification('ops_led', false)$$,
                  $$VALUES ('1'::text, 2::bigint, 'hash_mismatch'::text)$$,
                  'a full run_verification finds it');
SELECT is((SELECT c->>'status' FROM jsonb_array_elements(wallet_ops.health()->'checks') c
            WHERE c->>'check' = 'verification' AND c->>'object' = 'public.ops_led'),
          'critical', 'a verification that found a problem makes the check critical');
SELECT is(wallet_ops.health()->>'status', 'critical', 'tampered chain: health() is critical');
SELECT ok(wallet_ops.metrics() ~ E'\nwallet_ops_chain_problems\\{table="public.ops_led"\\} 1\n',
          'metrics(): wallet_ops_chain_problems 1');
SELECT is((SELECT outcome FROM wallet_ops.job_log WHERE object = 'public.ops_led' ORDER BY job_id DESC LIMIT 1),
          'problems', 'job_log records the outcome "problems"');
SELECT ok((SELECT headline FROM wallet_ops.status WHERE object = 'public.ops_led' AND kind = 'hash_chain') LIKE '1 problems found by the full verification%',
          'status headline reports the problem');
SELECT is((SELECT anchor->'row_count' FROM wallet_ops.verification_state WHERE relid = 'ops_led'::regclass),
          '61'::jsonb, 'the anchor stays that of the last clean verification');
SELECT is((SELECT count(*) FROM wallet_ops.run_verification('ops_led')), 1::bigint,
          'after problems the next run is full again, not anchored on a bad state');
-- repair by hand (the row's original amount) and verify clean again
SET LOCAL session_replication_role = replica;
UPDATE ops_led SET amount = 10 WHERE account = 1 AND chain_seq = 2;
SET LOCAL session_replication_role = origin;
SELECT is_empty($$SELECT * FROM wallet_ops.run_verification('ops_led')$$, 'repaired: clean again');
SELECT is((SELECT c->>'status' FROM jsonb_array_elements(wallet_ops.health()->'checks') c
            WHERE c->>'check' = 'verification' AND c->>'object' = 'public.ops_led'),
          'ok', 'a clean verification clears the critical check');

-- ---- tampering after the anchor, found incrementally ---------------------
DELETE FROM ops_anchor;
INSERT INTO ops_anchor SELECT wallet_ops.chain_digest('ops_led');
INSERT INTO ops_led (account, amount, booked_at)
SELECT 1 + n % 5, 100 + n, timestamptz '2026-04-01 00:00+00' + n * interval '1 hour' FROM generate_series(1, 10) n;
SET LOCAL session_replication_role = replica;
-- account 2: a new row changed
UPDATE ops_led SET amount = -1 WHERE account = 2 AND chain_seq = 13;
-- account 3: the last new row removed (the head still says 14)
CREATE TEMP TABLE ops_cut AS SELECT * FROM ops_led WHERE account = 3 AND chain_seq = 14;
DELETE FROM ops_led WHERE account = 3 AND chain_seq = 14;
-- account 4: a row added around the trigger after the head
INSERT INTO ops_led (account, amount, booked_at, chain_seq, prev_hash, row_hash)
SELECT account, 5, booked_at, 15, row_hash, row_hash FROM ops_led WHERE account = 4 AND chain_seq = 14;
-- account 6 (new since the first anchor, one row): its attested row rewritten
CREATE TEMP TABLE ops_six AS SELECT row_hash FROM ops_led WHERE account = 6;
UPDATE ops_led SET row_hash = sha256('x') WHERE account = 6 AND chain_seq = 1;
SET LOCAL session_replication_role = origin;
-- account 6's head did not move: only a full verification reads it
SELECT results_eq($$SELECT chain_key, problem FROM wallet_ops.verify_since_digest('ops_led', (SELECT d FROM ops_anchor)) ORDER BY 1, 2$$,
                  $$VALUES ('2'::text, 'hash_mismatch'::text), ('3', 'head_mismatch'), ('4', 'hash_mismatch'), ('4', 'head_mismatch')$$,
                  'incremental verification finds the changed row, the removed tail and the row added after the head');
SELECT ok((SELECT count(*) FROM wallet_ops.verify_chain('ops_led') WHERE chain_key = '6') > 0,
          'the full verification also finds the rewritten row of an unchanged chain');

-- the digest itself must be one
SELECT throws_ok($$SELECT * FROM wallet_ops.verify_since_digest('ops_led', '{"format": "nope"}')$$, '22023', NULL,
                 'verify_since_digest refuses what is not a digest');
SELECT throws_ok($$SELECT * FROM wallet_ops.verify_since_digest('ops_plain', (SELECT d FROM ops_anchor))$$, '55000', NULL,
                 'verify_since_digest refuses a table that is not hash-chained');

-- ---- new rows that are not at the end of the heap ----------------------
-- Chain 1's new row sits in the first page, behind 9 pages and more of
-- rows the anchor attests: reading the heap backwards from its end gives
-- up, and the (key, chain_seq) index finds it.
CREATE TABLE ops_tail (k int NOT NULL, pad text);
SELECT wallet_ops.enable_hash_chain('ops_tail', '{k}');
INSERT INTO ops_tail VALUES (1, 'a'), (1, 'b');
INSERT INTO ops_tail SELECT 2, repeat('x', 400) FROM generate_series(1, 300);
CREATE TEMP TABLE ops_tail_anchor AS
  SELECT jsonb_set(d, '{chains}', (
           SELECT jsonb_agg(CASE WHEN c->>'chain_key' = '1'
                                 THEN jsonb_build_object('chain_key', '1', 'last_seq', 1,
                                        'head_hash', (SELECT encode(row_hash, 'hex') FROM ops_tail WHERE k = 1 AND chain_seq = 1))
                                 ELSE c END)
             FROM jsonb_array_elements(d->'chains') c)) AS d
    FROM (SELECT wallet_ops.chain_digest('ops_tail') AS d) x;
SELECT is_empty($$SELECT * FROM wallet_ops.verify_since_digest('ops_tail', (SELECT d FROM ops_tail_anchor))$$,
                'a new row in an early page is found through the index and verifies');
SET client_min_messages = error;
SELECT wallet_ops.release_append_only('ops_tail');
SET client_min_messages = warning;
SET LOCAL session_replication_role = replica;
UPDATE ops_tail SET pad = 'B' WHERE k = 1 AND chain_seq = 2;
SET LOCAL session_replication_role = origin;
SELECT results_eq($$SELECT chain_key, chain_seq, problem FROM wallet_ops.verify_since_digest('ops_tail', (SELECT d FROM ops_tail_anchor))$$,
                  $$VALUES ('1'::text, 2::bigint, 'hash_mismatch'::text)$$,
                  'and a change to it is found');

-- ---- replay ----------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM wallet_ops.replay('ops_led')$$, 'XX001', NULL,
                 'replay refuses while a chain fails verification up to as_of');
SELECT throws_like($$SELECT * FROM wallet_ops.replay('ops_led')$$,
                   'cannot replay chain "2" of table public.ops_led: verification found hash_mismatch',
                   'the refusal names the first failing chain and the problem');
-- up to 2026-02-15 nothing is wrong in chains 1, 2, 5; chains 3 and 4 have
-- rows missing or added at their tail, whose time is unknown
SELECT throws_like($$SELECT * FROM wallet_ops.replay('ops_led', '2026-02-15 00:00+00')$$,
                   'cannot replay chain "3"%head_mismatch',
                   'a chain whose tail was cut is refused whatever as_of');
SET LOCAL session_replication_role = replica;
-- undo the damage to chains 3, 4 and 6
DELETE FROM ops_led WHERE account = 4 AND chain_seq = 15;
INSERT INTO ops_led OVERRIDING SYSTEM VALUE SELECT * FROM ops_cut;
UPDATE ops_led SET row_hash = (SELECT row_hash FROM ops_six) WHERE account = 6;
SET LOCAL session_replication_role = origin;
SELECT results_eq($$SELECT chain_key, problem FROM wallet_ops.verify_chain('ops_led')$$,
                  $$VALUES ('2'::text, 'hash_mismatch'::text)$$,
                  'only chain 2 is still broken, at chain_seq 13');
SELECT results_eq($$SELECT chain_key, chain_seq, (row_data->>'amount')::numeric FROM wallet_ops.replay('ops_led', '2026-02-15 00:00+00')$$,
                  $$VALUES ('1'::text, 9::bigint, 45::numeric), ('2', 9, 41), ('3', 9, 42), ('4', 9, 43), ('5', 9, 44)$$,
                  'before the tampered row, replay returns the last row of each chain at as_of');
SELECT throws_ok($$SELECT * FROM wallet_ops.replay('ops_led', '2026-04-02 00:00+00')$$, 'XX001', NULL,
                 'after the tampered row, replay refuses');
SELECT is((SELECT (jsonb_populate_record(NULL::ops_led, row_data)).booked_at
             FROM wallet_ops.replay('ops_led', '2026-02-15 00:00+00') WHERE chain_key = '1'),
          timestamptz '2026-01-01 00:00+00' + 45 * interval '1 day',
          'jsonb_populate_record rebuilds the row from row_data');
SELECT throws_ok($$SELECT * FROM wallet_ops.replay('ops_plain')$$, '55000', NULL,
                 'replay refuses a table that is not hash-chained');
SELECT throws_ok($$SELECT * FROM wallet_ops.replay('ops_led', now(), 'amount')$$, '42804', NULL,
                 'replay refuses a time column that is not a time');

SELECT * FROM finish();
ROLLBACK;
