-- Hardening, family "monitoring": no interval or time makes status,
-- health() or metrics() fail for everyone.  Intervals are bounded where
-- they enter (schedule_verification, manage_matview: 22023); a row with an
-- extreme interval written directly by a superuser (or restored) only
-- loses its own figures (NULL, and a warning in health()).
SET TimeZone = 'UTC';
CREATE ROLE regress_hm_owner;
CREATE SCHEMA hm AUTHORIZATION regress_hm_owner;

SET ROLE regress_hm_owner;
CREATE TABLE hm.ledger (id int, what text);
INSERT INTO hm.ledger VALUES (1, 'a');
SELECT wallet_ops.enable_hash_chain('hm.ledger');
CREATE TABLE hm.src (id int);
CREATE MATERIALIZED VIEW hm.mv AS SELECT count(*) AS n FROM hm.src;
-- refused at entry, nothing recorded
SELECT sqlstate_of($$SELECT wallet_ops.schedule_verification('hm.ledger', '250000 years')$$);
SELECT sqlstate_of($$SELECT wallet_ops.schedule_verification('hm.ledger', '101 years')$$);
SELECT sqlstate_of($$SELECT wallet_ops.schedule_verification('hm.ledger', '1 day', '250000 years')$$);
SELECT sqlstate_of($$SELECT wallet_ops.schedule_verification('hm.ledger', '10000000 months -299999000 days')$$);
SELECT sqlstate_of($$SELECT wallet_ops.manage_matview('hm.mv', '250000 years')$$);
SELECT sqlstate_of($$SELECT wallet_ops.manage_matview('hm.mv', '10000000 months -299999000 days')$$);
RESET ROLE;
SELECT (SELECT count(*) FROM wallet_ops.verification_schedule WHERE relid = 'hm.ledger'::regclass) AS scheduled,
       (SELECT count(*) FROM wallet_ops.matviews WHERE mv = 'hm.mv'::regclass) AS managed;
-- 100 years is still accepted
SET ROLE regress_hm_owner;
SELECT sqlstate_of($$SELECT wallet_ops.schedule_verification('hm.ledger', '100 years')$$);
SELECT sqlstate_of($$SELECT wallet_ops.manage_matview('hm.mv', '100 years', false)$$);
RESET ROLE;

-- a superuser writes what the functions refuse
UPDATE wallet_ops.verification_schedule SET every = '250000 years', full_every = '178000000 years'
 WHERE relid = 'hm.ledger'::regclass;
UPDATE wallet_ops.matviews SET refresh_every = '293000 years' WHERE mv = 'hm.mv'::regclass;
-- everything still answers; that object's figures are NULL
SELECT object, kind, regexp_replace(headline, '\d{4}-\d\d-\d\d \d\d:\d\d', 'TIME') AS headline
  FROM wallet_ops.status WHERE object LIKE 'hm.%' ORDER BY object, kind;
SELECT object, kind, refresh_overdue, verification_overdue
  FROM wallet_ops._status_at(now()) WHERE object LIKE 'hm.%' ORDER BY object, kind;
SELECT c->>'check' AS check, c->>'object' AS object, c->>'status' AS status,
       regexp_replace(c->>'detail', '\d{4}-\d\d-\d\d \d\d:\d\d', 'TIME') AS detail
  FROM jsonb_array_elements(wallet_ops.health()->'checks') c
 WHERE c->>'object' LIKE 'hm.%' ORDER BY 1, 2;
SELECT wallet_ops.health()->>'status' IN ('warning', 'critical') AS not_ok;
SELECT m AS metric FROM regexp_split_to_table(wallet_ops.metrics(), E'\n') m
 WHERE m LIKE '%hm.%' AND m NOT LIKE '%timestamp_seconds%' AND m NOT LIKE '%staleness_seconds%'
   AND m NOT LIKE '%audit_age_seconds%'
 ORDER BY 1;
-- the worker's passes still run (the hostile schedule is never due)
SELECT count(*) >= 0 AS maintenance_ran FROM wallet_ops.run_maintenance();
SELECT count(*) >= 0 AS views_due_ran FROM wallet_ops._matviews_due();

-- times at the edges: no 22008 anywhere
SELECT count(*) > 0 AS answered FROM wallet_ops._status_at('infinity');
SELECT count(*) > 0 AS answered FROM wallet_ops._status_at('-infinity');
-- (typed: an untyped literal would make this a cast to the array type of
-- the view wallet_ops.health_checks, which is also named _health_checks)
SELECT count(*) > 0 AS answered FROM wallet_ops._health_checks('infinity'::timestamptz);
SELECT wallet_ops._health_at('infinity')->>'status' IS NOT NULL AS answered;
SELECT wallet_ops._metrics_at('infinity') LIKE '%wallet_ops_up 1%' AS answered;
SELECT wallet_ops._metrics_at('-infinity') LIKE '%wallet_ops_up 1%' AS answered;

-- the data is untouched
SELECT id, what, chain_seq FROM hm.ledger;
SELECT * FROM wallet_ops.verify_chain('hm.ledger');

SELECT wallet_ops.unmanage_matview('hm.mv');
SELECT wallet_ops.release_append_only('hm.ledger');
DROP SCHEMA hm CASCADE;
DROP ROLE regress_hm_owner;
