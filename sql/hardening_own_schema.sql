-- Hardening, family "own schema": wallet_ops' own tables and the system
-- catalogs cannot be put under wallet_ops' guards, by a superuser either
-- (the job log's retention would fail on every worker tick; watchers on
-- wallet_ops' tables would fire on the extension's own writes).
-- Refused with 42501 before anything changes.
SET TimeZone = 'UTC';

-- as a superuser
SELECT sqlstate_of($$SELECT wallet_ops.enforce_append_only('wallet_ops.job_log')$$);
SELECT sqlstate_of($$SELECT wallet_ops.enforce_append_only('wallet_ops.chain_heads')$$);
SELECT sqlstate_of($$SELECT wallet_ops.enforce_append_only('pg_catalog.pg_class')$$);
SELECT sqlstate_of($$SELECT wallet_ops.enable_hash_chain('wallet_ops.job_log')$$);
SELECT sqlstate_of($$SELECT wallet_ops.enable_hash_chain('wallet_ops.verification_state')$$);
SELECT sqlstate_of($$SELECT wallet_ops.enable_hash_chain('pg_catalog.pg_description')$$);
SELECT sqlstate_of($$SELECT * FROM wallet_ops.manage_partitions('wallet_ops.job_log', 'month')$$);
SELECT sqlstate_of($$SELECT * FROM wallet_ops.manage_partitions('pg_catalog.pg_class', 'month')$$);
SELECT sqlstate_of($$SELECT wallet_ops.schedule_verification('wallet_ops.job_log', '1 day')$$);
SELECT sqlstate_of($$SELECT wallet_ops.schedule_verification('pg_catalog.pg_class', '1 day')$$);
CREATE MATERIALIZED VIEW public.hos_jobs AS SELECT count(*) AS n FROM wallet_ops.job_log;
SELECT sqlstate_of($$SELECT wallet_ops.manage_matview('public.hos_jobs')$$);
-- (status reads through functions: nothing to watch at all)
CREATE MATERIALIZED VIEW public.hos_status AS SELECT * FROM wallet_ops.status;
SELECT sqlstate_of($$SELECT wallet_ops.manage_matview('public.hos_status')$$);
-- a refresh_every view reads them without a watcher: allowed
SELECT sqlstate_of($$SELECT wallet_ops.manage_matview('public.hos_jobs', '1 hour', false)$$);
SELECT wallet_ops.unmanage_matview('public.hos_jobs');

-- nothing changed: no guard, no watcher, no configuration
SELECT (SELECT count(*) FROM wallet_ops.append_only_tables WHERE relid::oid IN
          (SELECT oid FROM pg_class WHERE relnamespace IN ('wallet_ops'::regnamespace, 'pg_catalog'::regnamespace))) AS protected,
       (SELECT count(*) FROM wallet_ops.hash_chains WHERE relid::oid IN
          (SELECT oid FROM pg_class WHERE relnamespace IN ('wallet_ops'::regnamespace, 'pg_catalog'::regnamespace))) AS chained,
       (SELECT count(*) FROM wallet_ops.partition_config WHERE relid::oid IN
          (SELECT oid FROM pg_class WHERE relnamespace IN ('wallet_ops'::regnamespace, 'pg_catalog'::regnamespace))) AS partitioned,
       (SELECT count(*) FROM wallet_ops.verification_schedule WHERE relid::oid IN
          (SELECT oid FROM pg_class WHERE relnamespace IN ('wallet_ops'::regnamespace, 'pg_catalog'::regnamespace))) AS scheduled,
       (SELECT count(*) FROM wallet_ops.matviews) AS managed_views,
       (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = 'wallet_ops'::regnamespace AND NOT t.tgisinternal) AS triggers_on_own_tables;
SELECT count(*) AS job_log_columns FROM pg_attribute
 WHERE attrelid = 'wallet_ops.job_log'::regclass AND attname IN ('chain_seq', 'prev_hash', 'row_hash');

-- as a table owner who is not a superuser: the same refusal, not "must be owner"
CREATE ROLE regress_hos_owner;
SET ROLE regress_hos_owner;
SELECT sqlstate_of($$SELECT wallet_ops.enforce_append_only('wallet_ops.job_log')$$);
SELECT sqlstate_of($$SELECT wallet_ops.enable_hash_chain('wallet_ops.matviews')$$);
RESET ROLE;
DROP MATERIALIZED VIEW public.hos_jobs, public.hos_status;
DROP ROLE regress_hos_owner;
