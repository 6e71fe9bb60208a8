/* wallet_ops--1.0.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION wallet_ops" to load this file. \quit

COMMENT ON SCHEMA wallet_ops IS
  'wallet_ops: hash-chained ledgers, append-only tables, partitions made ahead of time, materialised views kept fresh';

REVOKE ALL ON SCHEMA wallet_ops FROM PUBLIC;
GRANT USAGE ON SCHEMA wallet_ops TO PUBLIC;

-- ---------------------------------------------------------------------------
-- job_log: one row per maintenance, refresh and verification run.
-- ---------------------------------------------------------------------------
CREATE TABLE wallet_ops.job_log (
    job_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    object       text NOT NULL,
    kind         text NOT NULL,
    action       text NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('ok', 'error', 'skipped', 'problems')),
    detail       text,
    error        text,
    sqlstate     text
);
CREATE INDEX job_log_object_idx ON wallet_ops.job_log (object, started_at);
CREATE INDEX job_log_started_idx ON wallet_ops.job_log (started_at);

COMMENT ON TABLE wallet_ops.job_log IS
  'Every maintenance, refresh and verification run of wallet_ops; rows older than wallet_ops.job_log_retention are removed by the worker';

REVOKE ALL ON wallet_ops.job_log FROM PUBLIC;
-- ---------------------------------------------------------------------------
-- Hash-chained tables (docs/ledger.md, byte format in docs/hash-format.md).
-- ---------------------------------------------------------------------------
CREATE TABLE wallet_ops.hash_chains (
    relid          pg_catalog.regclass PRIMARY KEY,
    chain_key      pg_catalog.name[] NOT NULL DEFAULT '{}',
    hashed_columns pg_catalog.name[] NOT NULL,
    format_version pg_catalog.int4 NOT NULL DEFAULT 1,
    enabled_at     pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE wallet_ops.hash_chains IS
  'One row per hash-chained table: its chain key columns and hashed columns, fixed when the chain was enabled';

CREATE TABLE wallet_ops.chain_heads (
    relid     pg_catalog.regclass NOT NULL,
    chain_key pg_catalog.text NOT NULL,
    last_seq  pg_catalog.int8 NOT NULL,
    last_hash pg_catalog.bytea NOT NULL,
    PRIMARY KEY (relid, chain_key)
) WITH (fillfactor = 50);  -- room for the HOT updates every commit makes
COMMENT ON TABLE wallet_ops.chain_heads IS
  'The head (last chain_seq and row_hash) of every chain of every hash-chained table, written at commit';

SELECT pg_catalog.pg_extension_config_dump('wallet_ops.hash_chains', '');
SELECT pg_catalog.pg_extension_config_dump('wallet_ops.chain_heads', '');

REVOKE ALL ON wallet_ops.hash_chains FROM PUBLIC;
GRANT SELECT ON wallet_ops.hash_chains TO PUBLIC;
REVOKE ALL ON wallet_ops.chain_heads FROM PUBLIC;

CREATE FUNCTION wallet_ops.enable_hash_chain(tbl pg_catalog.regclass,
                                             chain_key pg_catalog.name[] DEFAULT '{}',
                                             hashed_columns pg_catalog.name[] DEFAULT NULL)
RETURNS void
LANGUAGE C CALLED ON NULL INPUT
AS 'MODULE_PATHNAME', 'wallet_ops_enable_hash_chain';
COMMENT ON FUNCTION wallet_ops.enable_hash_chain(pg_catalog.regclass, pg_catalog.name[], pg_catalog.name[]) IS
  'Turn a table (plain or partitioned) into a hash-chained one; the caller must own it';

CREATE FUNCTION wallet_ops._chain_before_insert()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'wallet_ops_chain_before_insert';
COMMENT ON FUNCTION wallet_ops._chain_before_insert() IS
  'BEFORE INSERT row trigger of hash-chained tables: sets chain_seq, prev_hash and row_hash';

CREATE FUNCTION wallet_ops.verify_chain(tbl pg_catalog.regclass,
                                        chain_value pg_catalog.text DEFAULT NULL)
RETURNS TABLE (chain_key pg_catalog.text, chain_seq pg_catalog.int8,
               problem pg_catalog.text, detail pg_catalog.text)
LANGUAGE C CALLED ON NULL INPUT STABLE
AS 'MODULE_PATHNAME', 'wallet_ops_verify_chain';
COMMENT ON FUNCTION wallet_ops.verify_chain(pg_catalog.regclass, pg_catalog.text) IS
  'Recompute every row hash and link of a hash-chained table (or of one chain); one row per problem, none when intact';

CREATE FUNCTION wallet_ops.chain_digest(tbl pg_catalog.regclass)
RETURNS pg_catalog.jsonb
LANGUAGE C STRICT STABLE
AS 'MODULE_PATHNAME', 'wallet_ops_chain_digest';
COMMENT ON FUNCTION wallet_ops.chain_digest(pg_catalog.regclass) IS
  'An anchor of a hash-chained table to keep elsewhere: every chain''s head and a Merkle root over them';

CREATE FUNCTION wallet_ops.verify_against_digest(tbl pg_catalog.regclass,
                                                 digest pg_catalog.jsonb)
RETURNS TABLE (chain_key pg_catalog.text, chain_seq pg_catalog.int8,
               problem pg_catalog.text, detail pg_catalog.text)
LANGUAGE C CALLED ON NULL INPUT STABLE
AS 'MODULE_PATHNAME', 'wallet_ops_verify_against_digest';
COMMENT ON FUNCTION wallet_ops.verify_against_digest(pg_catalog.regclass, pg_catalog.jsonb) IS
  'verify_chain, plus every chain that no longer extends what the digest attested';

-- A dropped chained table takes its configuration and heads with it (a
-- regclass naming a dropped table would otherwise break pg_dump).
CREATE FUNCTION wallet_ops._chain_sql_drop()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  DELETE FROM wallet_ops.chain_heads h
   USING pg_catalog.pg_event_trigger_dropped_objects() d
   WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
     AND d.objid = h.relid::pg_catalog.oid;
  DELETE FROM wallet_ops.hash_chains c
   USING pg_catalog.pg_event_trigger_dropped_objects() d
   WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
     AND d.objid = c.relid::pg_catalog.oid;
END
$$;
REVOKE ALL ON FUNCTION wallet_ops._chain_sql_drop() FROM PUBLIC;
CREATE EVENT TRIGGER wallet_ops_chain_sql_drop ON sql_drop
  EXECUTE FUNCTION wallet_ops._chain_sql_drop();

-- What running verifications are doing (verify_chain, verify_against_digest
-- report their progress in pg_stat_activity.query).
CREATE VIEW wallet_ops.chain_verify_progress AS
SELECT a.pid,
       a.datname,
       a.usename,
       a.query_start,
       m[1] AS table_name,
       m[2] AS phase,
       (pg_catalog.regexp_match(m[2], 'partition (\d+) of'))[1]::pg_catalog.int4 AS partition,
       (pg_catalog.regexp_match(m[2], 'partition \d+ of (\d+)'))[1]::pg_catalog.int4 AS partitions,
       m[3]::pg_catalog.int8 AS rows_checked
  FROM pg_catalog.pg_stat_activity a,
       LATERAL pg_catalog.regexp_match(a.query,
         '^wallet_ops\.verify_chain\((.*)\): (.*), (\d+) rows checked$') AS m
 WHERE m IS NOT NULL;
COMMENT ON VIEW wallet_ops.chain_verify_progress IS
  'Progress of running hash chain verifications: table, phase, partition, rows checked so far';

-- ---------------------------------------------------------------------------
-- Append-only tables (docs/append-only.md).
-- ---------------------------------------------------------------------------
CREATE TABLE wallet_ops.append_only_tables (
    relid         pg_catalog.regclass PRIMARY KEY,
    protected_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    protected_by  name NOT NULL DEFAULT CURRENT_USER
);
COMMENT ON TABLE wallet_ops.append_only_tables IS
  'Tables kept append-only by wallet_ops.enforce_append_only(); their partitions, present and future, are protected with them';
SELECT pg_catalog.pg_extension_config_dump('wallet_ops.append_only_tables', '');
REVOKE ALL ON wallet_ops.append_only_tables FROM PUBLIC;
GRANT SELECT ON wallet_ops.append_only_tables TO PUBLIC;

CREATE TABLE wallet_ops.ingest_grants (
    relid       pg_catalog.regclass NOT NULL,
    role_name   name NOT NULL,
    granted_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    granted_by  name NOT NULL DEFAULT CURRENT_USER,
    PRIMARY KEY (relid, role_name)
);
COMMENT ON TABLE wallet_ops.ingest_grants IS
  'Roles given INSERT by wallet_ops.grant_ingest(); partitions made later get the same grants';
SELECT pg_catalog.pg_extension_config_dump('wallet_ops.ingest_grants', '');
REVOKE ALL ON wallet_ops.ingest_grants FROM PUBLIC;
GRANT SELECT ON wallet_ops.ingest_grants TO PUBLIC;

CREATE FUNCTION wallet_ops.append_only_guard()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'wallet_ops_append_only_guard';
COMMENT ON FUNCTION wallet_ops.append_only_guard() IS
  'Trigger of append-only tables: refuses UPDATE, DELETE and TRUNCATE';

CREATE FUNCTION wallet_ops.enforce_append_only(tbl pg_catalog.regclass)
RETURNS void
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'wallet_ops_enforce_append_only';
COMMENT ON FUNCTION wallet_ops.enforce_append_only(pg_catalog.regclass) IS
  'Makes a table and its partitions, present and future, append-only (table owner)';

CREATE FUNCTION wallet_ops.release_append_only(tbl pg_catalog.regclass)
RETURNS void
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'wallet_ops_release_append_only';
COMMENT ON FUNCTION wallet_ops.release_append_only(pg_catalog.regclass) IS
  'Removes the append-only protection of a table (superuser; logged at WARNING)';
REVOKE ALL ON FUNCTION wallet_ops.release_append_only(pg_catalog.regclass) FROM PUBLIC;

CREATE FUNCTION wallet_ops.grant_ingest(tbl pg_catalog.regclass, role name)
RETURNS void
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'wallet_ops_grant_ingest';
COMMENT ON FUNCTION wallet_ops.grant_ingest(pg_catalog.regclass, name) IS
  'Lets a role INSERT into a table and its partitions, present and future (and use their sequences), and nothing else on existing rows (table owner)';

CREATE FUNCTION wallet_ops.revoke_ingest(tbl pg_catalog.regclass, role name)
RETURNS void
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'wallet_ops_revoke_ingest';
COMMENT ON FUNCTION wallet_ops.revoke_ingest(pg_catalog.regclass, name) IS
  'Undoes wallet_ops.grant_ingest() (table owner)';

CREATE FUNCTION wallet_ops.append_only_ddl_start()
RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'wallet_ops_append_only_ddl_start';

CREATE FUNCTION wallet_ops.append_only_ddl_end()
RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'wallet_ops_append_only_ddl_end';

CREATE FUNCTION wallet_ops.append_only_sql_drop()
RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'wallet_ops_append_only_sql_drop';

REVOKE ALL ON FUNCTION wallet_ops.append_only_ddl_start() FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops.append_only_ddl_end() FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops.append_only_sql_drop() FROM PUBLIC;

-- ENABLE ALWAYS: session_replication_role = replica does not skip them.
CREATE EVENT TRIGGER wallet_ops_append_only_ddl_start ON ddl_command_start
  WHEN TAG IN ('ALTER TABLE', 'ALTER FOREIGN TABLE', 'ALTER TRIGGER', 'ALTER TYPE',
               'CREATE FOREIGN TABLE', 'CREATE RULE', 'CREATE TABLE',
               'CREATE TRIGGER', 'DROP EXTENSION', 'DROP FOREIGN TABLE',
               'DROP SCHEMA', 'DROP TABLE', 'DROP TRIGGER')
  EXECUTE FUNCTION wallet_ops.append_only_ddl_start();
ALTER EVENT TRIGGER wallet_ops_append_only_ddl_start ENABLE ALWAYS;

CREATE EVENT TRIGGER wallet_ops_append_only_ddl_end ON ddl_command_end
  WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE', 'CREATE TRIGGER')
  EXECUTE FUNCTION wallet_ops.append_only_ddl_end();
ALTER EVENT TRIGGER wallet_ops_append_only_ddl_end ENABLE ALWAYS;

CREATE EVENT TRIGGER wallet_ops_append_only_sql_drop ON sql_drop
  EXECUTE FUNCTION wallet_ops.append_only_sql_drop();
ALTER EVENT TRIGGER wallet_ops_append_only_sql_drop ENABLE ALWAYS;

-- ---------------------------------------------------------------------------
-- Partitions made ahead of time (contract section 3).
-- ---------------------------------------------------------------------------
CREATE TABLE wallet_ops.partition_config (
    relid          pg_catalog.regclass PRIMARY KEY,
    period         text NOT NULL CHECK (period IN ('day', 'week', 'month', 'quarter', 'year')),
    premake        integer NOT NULL CHECK (premake BETWEEN 1 AND 1000),
    retention      interval,
    time_zone      text NOT NULL DEFAULT 'UTC',
    keep_detached  boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    last_run       timestamptz,
    last_result    text CHECK (last_result IN ('ok', 'skipped', 'error')),
    last_error     text,
    runway_until   timestamptz,
    default_rows   bigint
);

COMMENT ON TABLE wallet_ops.partition_config IS
  'Tables whose partitions wallet_ops makes ahead of time; kept by pg_dump';
COMMENT ON COLUMN wallet_ops.partition_config.premake IS
  'Periods kept ready after the current one';
COMMENT ON COLUMN wallet_ops.partition_config.keep_detached IS
  'Detach partitions older than the retention instead of dropping them';
COMMENT ON COLUMN wallet_ops.partition_config.runway_until IS
  'End of the partitions that follow on from the current period, after the last successful run';
COMMENT ON COLUMN wallet_ops.partition_config.default_rows IS
  'Rows left in the default partition after the last run';

SELECT pg_catalog.pg_extension_config_dump('wallet_ops.partition_config', '');
REVOKE ALL ON wallet_ops.partition_config FROM PUBLIC;

CREATE FUNCTION wallet_ops.manage_partitions(
    tbl pg_catalog.regclass,
    period text,
    premake integer DEFAULT 3,
    retention interval DEFAULT NULL,
    time_zone text DEFAULT 'UTC',
    keep_detached boolean DEFAULT false,
    OUT object text, OUT action text, OUT detail text)
RETURNS SETOF record
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_manage_partitions';

COMMENT ON FUNCTION wallet_ops.manage_partitions(pg_catalog.regclass, text, integer, interval, text, boolean) IS
  'Keeps the current and premake further periods of a range-partitioned table made ahead of time, with a default partition';

CREATE FUNCTION wallet_ops.unmanage_partitions(tbl pg_catalog.regclass)
RETURNS void
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_unmanage_partitions';

COMMENT ON FUNCTION wallet_ops.unmanage_partitions(pg_catalog.regclass) IS
  'Stops managing the partitions of a table; every partition is kept';

CREATE FUNCTION wallet_ops.run_maintenance(
    tbl pg_catalog.regclass DEFAULT NULL,
    OUT object text, OUT action text, OUT detail text)
RETURNS SETOF record
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_run_maintenance';

COMMENT ON FUNCTION wallet_ops.run_maintenance(pg_catalog.regclass) IS
  'Does now what the worker does on its next tick: partitions, then materialised views';

-- Internal: the same as of a given time, for tests and dry runs.
CREATE FUNCTION wallet_ops._manage_partitions_at(
    tbl pg_catalog.regclass, period text, premake integer, retention interval,
    time_zone text, keep_detached boolean, at timestamptz,
    OUT object text, OUT action text, OUT detail text)
RETURNS SETOF record
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_manage_partitions';

CREATE FUNCTION wallet_ops._run_maintenance_at(
    tbl pg_catalog.regclass, at timestamptz,
    OUT object text, OUT action text, OUT detail text)
RETURNS SETOF record
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_run_maintenance';

CREATE FUNCTION wallet_ops._partition_plan(
    tbl pg_catalog.regclass, at timestamptz DEFAULT NULL,
    OUT object text, OUT action text, OUT detail text)
RETURNS SETOF record
LANGUAGE C CALLED ON NULL INPUT STABLE
AS 'MODULE_PATHNAME', 'wallet_ops_partition_plan';

COMMENT ON FUNCTION wallet_ops._partition_plan(pg_catalog.regclass, timestamptz) IS
  'Internal: the partitions a managed table should have at a given time, and which exist; changes nothing';

REVOKE ALL ON FUNCTION wallet_ops.manage_partitions(pg_catalog.regclass, text, integer, interval, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops.unmanage_partitions(pg_catalog.regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops.run_maintenance(pg_catalog.regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops._manage_partitions_at(pg_catalog.regclass, text, integer, interval, text, boolean, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops._run_maintenance_at(pg_catalog.regclass, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops._partition_plan(pg_catalog.regclass, timestamptz) FROM PUBLIC;

-- A managed table that is dropped is no longer managed.
CREATE FUNCTION wallet_ops._partitions_on_drop()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM wallet_ops.partition_config c
     USING pg_catalog.pg_event_trigger_dropped_objects() d
     WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.objsubid = 0
       AND d.objid = c.relid::pg_catalog.oid;
END
$$;
REVOKE ALL ON FUNCTION wallet_ops._partitions_on_drop() FROM PUBLIC;

CREATE EVENT TRIGGER wallet_ops_partitions_drop ON sql_drop
    EXECUTE FUNCTION wallet_ops._partitions_on_drop();

-- ---------------------------------------------------------------------------
-- The worker (contract section 5): once CREATE EXTENSION commits, the
-- launcher starts a worker for this database at once instead of at its next
-- tick.  Does nothing when the library is not preloaded.
-- ---------------------------------------------------------------------------
CREATE FUNCTION wallet_ops._worker_notify()
RETURNS void
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_worker_notify';

REVOKE ALL ON FUNCTION wallet_ops._worker_notify() FROM PUBLIC;

SELECT wallet_ops._worker_notify();

-- ---------------------------------------------------------------------------
-- Materialised views kept fresh (contract section 4).
--
-- wallet_ops.matviews       configuration, one row per managed view (dumped)
-- wallet_ops.matview_state  what happened to it: last refresh, last change,
--                           last result (not dumped: it holds transaction
--                           snapshots that mean nothing in another cluster)
-- wallet_ops.matview_changes one row per (writing transaction, source table),
--                           appended by the watcher triggers; consumed and
--                           pruned by the worker
-- ---------------------------------------------------------------------------
CREATE TABLE wallet_ops.matviews (
    mv             pg_catalog.regclass PRIMARY KEY,
    refresh_every  pg_catalog.interval,
    on_change      boolean NOT NULL DEFAULT true,
    managed_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    managed_by     name NOT NULL DEFAULT CURRENT_USER,
    CHECK (on_change OR refresh_every IS NOT NULL)
);
COMMENT ON TABLE wallet_ops.matviews IS
  'Materialised views refreshed by wallet_ops: on a committed change to a table they read (on_change) and/or at least every refresh_every';
SELECT pg_catalog.pg_extension_config_dump('wallet_ops.matviews', '');
REVOKE ALL ON wallet_ops.matviews FROM PUBLIC;

CREATE TABLE wallet_ops.matview_state (
    mv                  pg_catalog.regclass PRIMARY KEY
                        REFERENCES wallet_ops.matviews ON DELETE CASCADE,
    refresh_mode        text CHECK (refresh_mode IN ('concurrently', 'plain')),
    refreshed_snapshot  pg_catalog.pg_snapshot,
    refreshed_xid       pg_catalog.xid8,
    last_refresh        timestamptz,
    last_duration       pg_catalog.interval,
    last_change         timestamptz,
    last_result         text CHECK (last_result IN ('ok', 'error', 'skipped')),
    last_error          text,
    last_error_at       timestamptz,
    refreshes           bigint NOT NULL DEFAULT 0,
    failures            bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE wallet_ops.matview_state IS
  'Freshness of each managed materialised view: refresh_mode of the last refresh, when it was refreshed and with which snapshot, when its sources last changed, the last result and error';
REVOKE ALL ON wallet_ops.matview_state FROM PUBLIC;

CREATE TABLE wallet_ops.matview_changes (
    source      pg_catalog.regclass NOT NULL,
    xid         pg_catalog.xid8 NOT NULL,
    changed_at  timestamptz NOT NULL
);
-- No index: the watcher appends to this table without the executor; it
-- stays small, since rows are removed once every view has seen them.
COMMENT ON TABLE wallet_ops.matview_changes IS
  'Committed changes to tables read by managed materialised views, at most one row per transaction and table; rows are removed once every view reading the table has been refreshed past them';
REVOKE ALL ON wallet_ops.matview_changes FROM PUBLIC;

-- Whether a refresh saw a change: the change's transaction had committed
-- in the snapshot taken just before the refresh, or it is the refreshing
-- transaction itself and the change came before the refresh.
CREATE FUNCTION wallet_ops._matview_change_seen(xid pg_catalog.xid8,
                                                changed_at timestamptz,
                                                snap pg_catalog.pg_snapshot,
                                                refresher pg_catalog.xid8,
                                                refreshed_at timestamptz)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT COALESCE(pg_catalog.pg_visible_in_snapshot(xid, snap)
                    OR (xid OPERATOR(pg_catalog.=) refresher
                        AND changed_at OPERATOR(pg_catalog.<=) refreshed_at), false)
$$;

-- The views, tables and materialised views a materialised view reads, found
-- from its definition through views, with every partition and inheritance
-- child of the tables.
CREATE FUNCTION wallet_ops.matview_sources(mv pg_catalog.regclass)
RETURNS pg_catalog.regclass[]
LANGUAGE C STRICT STABLE
AS 'MODULE_PATHNAME', 'wallet_ops_matview_sources';
COMMENT ON FUNCTION wallet_ops.matview_sources(pg_catalog.regclass) IS
  'Views, tables, partitions and materialised views the materialised view reads';

-- The mode the next refresh would use: 'concurrently' when the view is
-- populated and has a unique index REFRESH ... CONCURRENTLY accepts.
CREATE FUNCTION wallet_ops._matview_next_mode(mv pg_catalog.regclass)
RETURNS text
LANGUAGE C STRICT STABLE
AS 'MODULE_PATHNAME', 'wallet_ops_matview_next_mode';

CREATE FUNCTION wallet_ops.manage_matview(mv pg_catalog.regclass,
                                          refresh_every pg_catalog.interval DEFAULT NULL,
                                          on_change boolean DEFAULT true)
RETURNS void
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_manage_matview';
COMMENT ON FUNCTION wallet_ops.manage_matview(pg_catalog.regclass, pg_catalog.interval, boolean) IS
  'Keeps a materialised view fresh: refreshed after every committed change to a table it reads (on_change) and at least every refresh_every';

CREATE FUNCTION wallet_ops.unmanage_matview(mv pg_catalog.regclass)
RETURNS void
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_unmanage_matview';
COMMENT ON FUNCTION wallet_ops.unmanage_matview(pg_catalog.regclass) IS
  'Stops refreshing a materialised view and removes the watchers no other managed view needs';

CREATE FUNCTION wallet_ops.refresh_matview(mv pg_catalog.regclass)
RETURNS text
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_refresh_matview';
COMMENT ON FUNCTION wallet_ops.refresh_matview(pg_catalog.regclass) IS
  'Refreshes a materialised view now, CONCURRENTLY when it can; returns the mode used';

-- Watcher: statement-level (and, for logical replication apply, row-level)
-- trigger on every source table and partition.
CREATE FUNCTION wallet_ops.matview_watch()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'wallet_ops_matview_watch';
COMMENT ON FUNCTION wallet_ops.matview_watch() IS
  'Watcher trigger of wallet_ops: records that a table read by a managed materialised view changed';

-- Views due now, with the reason; used by the worker and by tests.
CREATE FUNCTION wallet_ops._matviews_due(only_mv pg_catalog.regclass DEFAULT NULL)
RETURNS TABLE (mv pg_catalog.regclass, reason text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH cfg AS (
        SELECT m.mv, m.on_change, m.refresh_every,
               s.mv IS NOT NULL AS has_state,
               s.refreshed_snapshot, s.refreshed_xid, s.last_refresh
          FROM wallet_ops.matviews m
          JOIN pg_catalog.pg_class c ON c.oid = m.mv AND c.relkind = 'm'
          LEFT JOIN wallet_ops.matview_state s ON s.mv = m.mv
         WHERE only_mv IS NULL OR m.mv = only_mv
    ), nap AS (
        SELECT pg_catalog.make_interval(secs => COALESCE(
                   (SELECT setting::float8 FROM pg_catalog.pg_settings
                     WHERE name = 'wallet_ops.naptime'), 60)) AS naptime
    ), changed AS (
        SELECT cfg.mv
          FROM cfg
         WHERE cfg.on_change AND cfg.refreshed_snapshot IS NOT NULL
           AND EXISTS (SELECT 1 FROM wallet_ops.matview_changes ch
                        WHERE ch.source OPERATOR(pg_catalog.=) ANY (wallet_ops.matview_sources(cfg.mv))
                          AND NOT wallet_ops._matview_change_seen(ch.xid, ch.changed_at,
                                     cfg.refreshed_snapshot, cfg.refreshed_xid, cfg.last_refresh))
    )
    SELECT cfg.mv,
           CASE
             WHEN cfg.on_change AND cfg.refreshed_snapshot IS NULL THEN 'never refreshed'
             WHEN cfg.mv IN (SELECT changed.mv FROM changed) THEN 'sources changed'
             ELSE 'refresh_every'
           END
      FROM cfg, nap
     WHERE (cfg.on_change AND cfg.refreshed_snapshot IS NULL)
        OR cfg.mv IN (SELECT changed.mv FROM changed)
        OR (cfg.refresh_every IS NOT NULL
            AND (cfg.last_refresh IS NULL
                 OR cfg.last_refresh + cfg.refresh_every <= pg_catalog.now() + nap.naptime / 2))
     ORDER BY cfg.mv::oid
$$;
REVOKE ALL ON FUNCTION wallet_ops._matviews_due(pg_catalog.regclass) FROM PUBLIC;

-- The materialised-view part of a maintenance pass, now (what
-- run_maintenance() does for views); used by tests.
CREATE FUNCTION wallet_ops._matviews_run(only_mv pg_catalog.regclass DEFAULT NULL)
RETURNS TABLE (object text, action text, detail text)
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_matviews_run';
REVOKE ALL ON FUNCTION wallet_ops._matviews_run(pg_catalog.regclass) FROM PUBLIC;

-- Removes the change rows every view reading their table has consumed.
CREATE FUNCTION wallet_ops._matview_prune_changes()
RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH watching AS (
        SELECT s.refreshed_snapshot, s.refreshed_xid, s.last_refresh,
               pg_catalog.unnest(wallet_ops.matview_sources(m.mv)) AS source
          FROM wallet_ops.matviews m
          JOIN pg_catalog.pg_class c ON c.oid = m.mv AND c.relkind = 'm'
          LEFT JOIN wallet_ops.matview_state s ON s.mv = m.mv
         WHERE m.on_change
    ), gone AS (
        DELETE FROM wallet_ops.matview_changes ch
         WHERE NOT EXISTS (
                 SELECT 1 FROM watching w
                  WHERE w.source OPERATOR(pg_catalog.=) ch.source
                    AND (w.refreshed_snapshot IS NULL
                         OR NOT wallet_ops._matview_change_seen(ch.xid, ch.changed_at,
                                    w.refreshed_snapshot, w.refreshed_xid, w.last_refresh)))
        RETURNING 1
    )
    SELECT pg_catalog.count(*) FROM gone
$$;
REVOKE ALL ON FUNCTION wallet_ops._matview_prune_changes() FROM PUBLIC;

-- Freshness of each managed view, for operators and wallet_ops.status.
CREATE VIEW wallet_ops.matview_freshness AS
    SELECT m.mv,
           m.on_change,
           m.refresh_every,
           s.refresh_mode,
           wallet_ops._matview_next_mode(m.mv) AS next_refresh_mode,
           s.last_refresh,
           GREATEST(s.last_change, p.last_pending) AS last_change,
           p.first_pending IS NOT NULL OR (m.on_change AND s.refreshed_snapshot IS NULL) AS stale,
           CASE WHEN p.first_pending IS NOT NULL
                THEN pg_catalog.now() - p.first_pending
                ELSE pg_catalog.make_interval() END AS staleness,
           s.last_result,
           s.last_error,
           s.last_error_at,
           s.last_duration,
           s.refreshes,
           s.failures,
           ARRAY(SELECT src
                   FROM pg_catalog.unnest(wallet_ops.matview_sources(m.mv)) AS src
                   JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) src
                  WHERE m.on_change AND c.relkind IN ('r', 'p')
                    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                                     WHERE t.tgrelid OPERATOR(pg_catalog.=) src
                                       AND t.tgname OPERATOR(pg_catalog.=) 'wallet_ops_matview_watch'
                                       AND t.tgenabled OPERATOR(pg_catalog.=) 'A')
                  ORDER BY src::pg_catalog.text) AS unwatched_sources
      FROM wallet_ops.matviews m
      LEFT JOIN wallet_ops.matview_state s ON s.mv = m.mv
      LEFT JOIN LATERAL (
            SELECT pg_catalog.min(ch.changed_at) AS first_pending,
                   pg_catalog.max(ch.changed_at) AS last_pending
              FROM wallet_ops.matview_changes ch
             WHERE m.on_change
               AND ch.source OPERATOR(pg_catalog.=) ANY (wallet_ops.matview_sources(m.mv))
               AND (s.refreshed_snapshot IS NULL
                    OR NOT wallet_ops._matview_change_seen(ch.xid, ch.changed_at,
                               s.refreshed_snapshot, s.refreshed_xid, s.last_refresh))) p ON true;
COMMENT ON VIEW wallet_ops.matview_freshness IS
  'Per managed materialised view: when its sources last changed, when it was last refreshed and how, whether it is stale and for how long, the last result, and the sources whose watcher is missing or disabled';
REVOKE ALL ON wallet_ops.matview_freshness FROM PUBLIC;

-- Event triggers: a dropped view loses its configuration and watchers; a
-- new partition (or child, or redefined view) of a watched source gets one.
CREATE FUNCTION wallet_ops._matviews_ddl()
RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'wallet_ops_matviews_ddl';

CREATE FUNCTION wallet_ops._matviews_drop()
RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'wallet_ops_matviews_drop';

CREATE EVENT TRIGGER wallet_ops_matviews_ddl ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'CREATE VIEW', 'CREATE RULE')
    EXECUTE FUNCTION wallet_ops._matviews_ddl();
ALTER EVENT TRIGGER wallet_ops_matviews_ddl ENABLE ALWAYS;

CREATE EVENT TRIGGER wallet_ops_matviews_drop ON sql_drop
    EXECUTE FUNCTION wallet_ops._matviews_drop();
ALTER EVENT TRIGGER wallet_ops_matviews_drop ENABLE ALWAYS;

-- ---------------------------------------------------------------------------
-- What operators look at (contract section 6, docs/operations.md):
--
-- wallet_ops.status     one row per managed object with its headline figure
-- wallet_ops.health()   ok / warning / critical, with one entry per check
-- wallet_ops.metrics()  the same figures in Prometheus text format
--
-- Every figure is computed when asked (partition runway from the partitions
-- that exist now, rows in default partitions counted now), not copied from
-- the last maintenance run, so a partition dropped by hand shows at once.
-- The functions are SECURITY DEFINER so that a monitoring role needs no
-- privilege on the managed tables; they reveal object names and counts
-- only.  They are not executable by PUBLIC: members of pg_monitor may use
-- them, and GRANT gives them to any other role (docs/operations.md).
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- Scheduled integrity audits of hash-chained tables.
--
-- wallet_ops.verification_schedule  what to verify and how often (dumped)
-- wallet_ops.verification_state     how the last runs went, and the digest
--                                   of the last clean verification, the
--                                   anchor of the next incremental one (not
--                                   dumped: a restored cluster starts with
--                                   a full verification)
-- ---------------------------------------------------------------------------
CREATE TABLE wallet_ops.verification_schedule (
    relid         pg_catalog.regclass PRIMARY KEY,
    every         interval NOT NULL CHECK (every > interval '0'),
    full_every    interval CHECK (full_every > interval '0'),
    scheduled_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    scheduled_by  name NOT NULL DEFAULT CURRENT_USER
);
COMMENT ON TABLE wallet_ops.verification_schedule IS
  'Hash-chained tables the worker verifies every `every`, incrementally from the last clean verification, and in full every full_every (NULL: only when there is no clean verification to start from)';
SELECT pg_catalog.pg_extension_config_dump('wallet_ops.verification_schedule', '');
REVOKE ALL ON wallet_ops.verification_schedule FROM PUBLIC;

CREATE TABLE wallet_ops.verification_state (
    relid          pg_catalog.regclass PRIMARY KEY,
    last_run       timestamptz,
    last_result    text CHECK (last_result IN ('ok', 'problems', 'error')),
    last_error     text,
    last_mode      text CHECK (last_mode IN ('full', 'incremental')),
    problems       bigint,
    last_verified  timestamptz,
    last_full      timestamptz,
    anchor         jsonb
);
COMMENT ON TABLE wallet_ops.verification_state IS
  'Outcome of the last recorded verification of each hash-chained table; anchor is the digest (wallet_ops.chain_digest) of the heads the last clean verification checked';
REVOKE ALL ON wallet_ops.verification_state FROM PUBLIC;

CREATE FUNCTION wallet_ops.schedule_verification(tbl pg_catalog.regclass, every interval,
                                                 full_every interval DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tbl IS NULL OR every IS NULL THEN
        RAISE EXCEPTION 'table and interval must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM wallet_ops.hash_chains h WHERE h.relid = tbl) THEN
        RAISE EXCEPTION 'table "%" is not hash-chained', tbl
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Use wallet_ops.enable_hash_chain() first.';
    END IF;
    IF NOT pg_catalog.pg_has_role(SESSION_USER,
                                  (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = tbl), 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', tbl USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF every <= interval '0' OR full_every <= interval '0' THEN
        RAISE EXCEPTION 'verification interval must be positive'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('every = %s, full_every = %s.', every, COALESCE(full_every::text, 'NULL'));
    END IF;
    INSERT INTO wallet_ops.verification_schedule AS s (relid, every, full_every)
    VALUES (tbl, every, full_every)
    ON CONFLICT (relid) DO UPDATE SET every = EXCLUDED.every, full_every = EXCLUDED.full_every,
                                      scheduled_at = pg_catalog.now(), scheduled_by = CURRENT_USER;
END
$$;
COMMENT ON FUNCTION wallet_ops.schedule_verification(pg_catalog.regclass, interval, interval) IS
  'The worker verifies a hash-chained table every `every`, incrementally from the last clean verification, in full every full_every (table owner)';

CREATE FUNCTION wallet_ops.unschedule_verification(tbl pg_catalog.regclass)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pg_catalog.pg_has_role(SESSION_USER,
                                  (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = tbl), 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', tbl USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM wallet_ops.verification_schedule s WHERE s.relid = tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'verification of table "%" is not scheduled', tbl USING ERRCODE = 'undefined_object';
    END IF;
END
$$;
COMMENT ON FUNCTION wallet_ops.unschedule_verification(pg_catalog.regclass) IS
  'Stops the scheduled verification of a table; its last outcome stays in wallet_ops.status (table owner)';

CREATE FUNCTION wallet_ops.verify_since_digest(tbl pg_catalog.regclass, digest jsonb)
RETURNS TABLE (chain_key text, chain_seq bigint, problem text, detail text)
LANGUAGE C CALLED ON NULL INPUT STABLE
AS 'MODULE_PATHNAME', 'wallet_ops_verify_since_digest';
COMMENT ON FUNCTION wallet_ops.verify_since_digest(pg_catalog.regclass, jsonb) IS
  'Verifies only the rows added since a digest was taken, from the heads it attested on; read-only (runs on a hot standby)';

CREATE FUNCTION wallet_ops.run_verification(tbl pg_catalog.regclass, incremental boolean DEFAULT true)
RETURNS TABLE (chain_key text, chain_seq bigint, problem text, detail text)
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_run_verification';
COMMENT ON FUNCTION wallet_ops.run_verification(pg_catalog.regclass, boolean) IS
  'Verifies a hash-chained table now as a scheduled verification does (incrementally from the last clean one, or in full) and records the outcome';
REVOKE ALL ON FUNCTION wallet_ops.run_verification(pg_catalog.regclass, boolean) FROM PUBLIC;

-- A dropped table is no longer verified.
CREATE FUNCTION wallet_ops._verification_on_drop()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM wallet_ops.verification_schedule s
     USING pg_catalog.pg_event_trigger_dropped_objects() d
     WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.objsubid = 0 AND d.objid = s.relid::pg_catalog.oid;
    DELETE FROM wallet_ops.verification_state s
     USING pg_catalog.pg_event_trigger_dropped_objects() d
     WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.objsubid = 0 AND d.objid = s.relid::pg_catalog.oid;
END
$$;
REVOKE ALL ON FUNCTION wallet_ops._verification_on_drop() FROM PUBLIC;
CREATE EVENT TRIGGER wallet_ops_verification_drop ON sql_drop
    EXECUTE FUNCTION wallet_ops._verification_on_drop();

-- Verifications running now, in any session (progress is in the query
-- text, updated as rows are checked).
CREATE VIEW wallet_ops.verification_progress AS
    SELECT a.pid, a.datname, a.usename, a.backend_type, a.xact_start,
           pg_catalog.now() - a.xact_start AS running_for, a.query AS progress
      FROM pg_catalog.pg_stat_activity a
     WHERE a.query LIKE 'wallet\_ops.verify\_chain(%' OR a.query LIKE 'wallet\_ops: verifying %';
COMMENT ON VIEW wallet_ops.verification_progress IS
  'Hash chain verifications running now in any session, with their progress (rows checked); needs pg_read_all_stats (pg_monitor) to see other roles'' sessions';
REVOKE ALL ON wallet_ops.verification_progress FROM PUBLIC;
GRANT SELECT ON wallet_ops.verification_progress TO pg_monitor;

CREATE FUNCTION wallet_ops._preloaded()
RETURNS boolean
LANGUAGE C STRICT STABLE
AS 'MODULE_PATHNAME', 'wallet_ops_is_preloaded';
COMMENT ON FUNCTION wallet_ops._preloaded() IS
  'Internal: true when the library was loaded through shared_preload_libraries (the worker can run)';

-- The worker of this database, as pg_stat_activity shows it.
CREATE FUNCTION wallet_ops._worker_state(
    OUT preloaded boolean, OUT enabled boolean, OUT in_recovery boolean,
    OUT database_allowed boolean, OUT worker_pid integer,
    OUT worker_started timestamptz, OUT naptime interval)
RETURNS record
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT wallet_ops._preloaded(),
           COALESCE(pg_catalog.current_setting('wallet_ops.enabled', true), 'on') = 'on',
           pg_catalog.pg_is_in_recovery(),
           COALESCE(pg_catalog.current_setting('wallet_ops.databases', true), '') = ''
             OR pg_catalog.current_database() = ANY (
                  SELECT pg_catalog.btrim(d)
                    FROM pg_catalog.regexp_split_to_table(
                           pg_catalog.current_setting('wallet_ops.databases', true), ',') d),
           (SELECT a.pid FROM pg_catalog.pg_stat_activity a
             WHERE a.backend_type = 'wallet_ops worker' AND a.datid = d.oid
             ORDER BY a.backend_start LIMIT 1),
           (SELECT a.backend_start FROM pg_catalog.pg_stat_activity a
             WHERE a.backend_type = 'wallet_ops worker' AND a.datid = d.oid
             ORDER BY a.backend_start LIMIT 1),
           pg_catalog.make_interval(secs => COALESCE(
               (SELECT s.setting::pg_catalog.float8 FROM pg_catalog.pg_settings s
                 WHERE s.name = 'wallet_ops.naptime'), 60))
      FROM pg_catalog.pg_database d
     WHERE d.datname = pg_catalog.current_database()
$$;
REVOKE ALL ON FUNCTION wallet_ops._worker_state() FROM PUBLIC;

-- Live figures of a table whose partitions are managed, as of `at`:
-- runway_until is the end of the partitions that follow on, without a gap,
-- from the one holding `at` (NULL when no partition holds `at`);
-- period_length is one period; default_rows is counted now.
CREATE FUNCTION wallet_ops._partition_figures(
    tbl pg_catalog.regclass, at timestamptz,
    OUT runway_until timestamptz, OUT period_length interval,
    OUT has_default boolean, OUT default_rows bigint)
RETURNS record
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cfg record;
    keytype pg_catalog.regtype;
    default_part pg_catalog.regclass;
    cur timestamptz := at;
    nxt timestamptz;
    part record;
    m text[];
    los timestamptz[] := '{}';
    his timestamptz[] := '{}';
BEGIN
    SELECT c.period, c.time_zone INTO cfg
      FROM wallet_ops.partition_config c WHERE c.relid = tbl;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    period_length := CASE cfg.period
        WHEN 'day' THEN interval '1 day' WHEN 'week' THEN interval '7 days'
        WHEN 'month' THEN interval '1 month' WHEN 'quarter' THEN interval '3 months'
        ELSE interval '1 year' END;

    SELECT a.atttypid::pg_catalog.regtype INTO keytype
      FROM pg_catalog.pg_partitioned_table p
      JOIN pg_catalog.pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
     WHERE p.partrelid = tbl;

    -- bounds of every partition as timestamptz, read from the catalog
    -- (no temporary table: this runs on hot standbys too)
    has_default := false;
    FOR part IN
        SELECT c.oid AS part, pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS bound
          FROM pg_catalog.pg_inherits i
          JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = tbl
    LOOP
        IF part.bound = 'DEFAULT' THEN
            has_default := true;
            default_part := part.part;
            CONTINUE;
        END IF;
        m := pg_catalog.regexp_match(part.bound, '^FOR VALUES FROM \((.*)\) TO \((.*)\)$');
        CONTINUE WHEN m IS NULL;
        los := los || wallet_ops._bound_time(m[1], keytype, cfg.time_zone);
        his := his || wallet_ops._bound_time(m[2], keytype, cfg.time_zone);
    END LOOP;

    -- follow the partitions on from the one holding `at`
    LOOP
        nxt := NULL;
        FOR i IN 1 .. COALESCE(pg_catalog.array_length(los, 1), 0) LOOP
            IF los[i] <= cur AND his[i] > cur THEN
                nxt := GREATEST(nxt, his[i]);
            END IF;
        END LOOP;
        EXIT WHEN nxt IS NULL;
        runway_until := nxt;
        EXIT WHEN nxt = 'infinity';
        cur := nxt;
    END LOOP;

    IF has_default THEN
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM ONLY %s', default_part::pg_catalog.regclass)
           INTO default_rows;
    ELSE
        default_rows := 0;
    END IF;
END
$$;
REVOKE ALL ON FUNCTION wallet_ops._partition_figures(pg_catalog.regclass, timestamptz) FROM PUBLIC;

-- A partition bound as pg_get_expr prints it ('2026-01-01 00:00:00+00',
-- MINVALUE, ...) as timestamptz; timestamp and date bounds are local times
-- in the table's time zone.
CREATE FUNCTION wallet_ops._bound_time(lit text, keytype pg_catalog.regtype, tz text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v text := pg_catalog.btrim(lit);
BEGIN
    IF v = 'MINVALUE' THEN
        RETURN '-infinity';
    ELSIF v = 'MAXVALUE' THEN
        RETURN 'infinity';
    END IF;
    v := pg_catalog.replace(pg_catalog.btrim(v, ''''), '''''', '''');
    IF keytype = 'timestamptz'::pg_catalog.regtype THEN
        RETURN v::timestamptz;
    ELSIF keytype = 'date'::pg_catalog.regtype THEN
        RETURN v::date::timestamp AT TIME ZONE tz;
    ELSE
        RETURN v::timestamp AT TIME ZONE tz;
    END IF;
END
$$;
REVOKE ALL ON FUNCTION wallet_ops._bound_time(text, pg_catalog.regtype, text) FROM PUBLIC;

-- Every managed object with its figures as of `at`: the columns of
-- wallet_ops.status, then what health() needs besides.
CREATE FUNCTION wallet_ops._status_at(at timestamptz)
RETURNS TABLE (object text, kind text, last_run timestamptz, last_result text,
               last_error text, headline text, runway_until timestamptz,
               default_rows bigint, staleness interval, last_verified timestamptz,
               -- for health()
               period_length interval, has_default boolean, allowed_staleness interval,
               refresh_overdue boolean, protection_intact boolean, problems bigint,
               verification_overdue boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH w AS (SELECT * FROM wallet_ops._worker_state())
    -- partitions made ahead of time
    SELECT c.relid::text, 'partitions', c.last_run, c.last_result, c.last_error,
           CASE WHEN f.runway_until IS NULL
                THEN 'no partition for the current period'
                ELSE 'partitions up to ' || pg_catalog.to_char(f.runway_until AT TIME ZONE 'UTC',
                                                               'YYYY-MM-DD HH24:MI') || ' UTC'
           END
           || CASE WHEN NOT f.has_default THEN ', no default partition'
                   WHEN f.default_rows > 0 THEN ', ' || f.default_rows || ' rows in the default partition'
                   ELSE '' END,
           f.runway_until, f.default_rows, NULL::interval, NULL::timestamptz,
           f.period_length, f.has_default, NULL::interval, NULL::boolean, NULL::boolean,
           NULL::bigint, NULL::boolean
      FROM wallet_ops.partition_config c,
           LATERAL wallet_ops._partition_figures(c.relid, at) f
    UNION ALL
    -- materialised views kept fresh: stale for `staleness` since the first
    -- change they do not show; the policy allows one naptime after a change
    -- (twice, for the refresh itself) and refresh_every plus that
    SELECT m.mv::text, 'matview',
           GREATEST(s.last_refresh, s.last_error_at), s.last_result, s.last_error,
           CASE WHEN f.stale THEN 'stale for ' || pg_catalog.date_trunc('second', st.staleness)::text
                ELSE 'fresh' END
           || COALESCE(', refreshed ' || pg_catalog.to_char(s.last_refresh AT TIME ZONE 'UTC',
                                                           'YYYY-MM-DD HH24:MI:SS') || ' UTC',
                       ', never refreshed'),
           NULL, NULL, st.staleness, NULL,
           NULL, NULL, 2 * w.naptime,
           m.refresh_every IS NOT NULL
             AND COALESCE(s.last_refresh, m.managed_at) + m.refresh_every + 2 * w.naptime < at,
           NULL, NULL, NULL
      FROM wallet_ops.matviews m
      JOIN wallet_ops.matview_freshness f ON f.mv = m.mv
      LEFT JOIN wallet_ops.matview_state s ON s.mv = m.mv
      CROSS JOIN w
      CROSS JOIN LATERAL (
          SELECT CASE
                   WHEN NOT f.stale THEN interval '0'
                   -- never refreshed: stale since it was managed
                   WHEN s.refreshed_snapshot IS NULL
                     THEN GREATEST(at - m.managed_at, interval '0')
                   ELSE GREATEST(f.staleness + (at - pg_catalog.now()), interval '0')
                 END AS staleness) st
    UNION ALL
    -- append-only tables: the guard triggers must be in place and enabled
    SELECT a.relid::text, 'append_only', NULL, NULL, NULL,
           CASE WHEN g.intact THEN 'append-only since '
                                  || pg_catalog.to_char(a.protected_at AT TIME ZONE 'UTC',
                                                        'YYYY-MM-DD HH24:MI') || ' UTC'
                ELSE 'guard triggers missing or disabled' END,
           NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, g.intact, NULL, NULL
      FROM wallet_ops.append_only_tables a,
           LATERAL (SELECT pg_catalog.count(*) = 2 AS intact
                      FROM pg_catalog.pg_trigger t
                     WHERE t.tgrelid = a.relid
                       AND t.tgname IN ('wallet_ops_append_only_row', 'wallet_ops_append_only_stmt')
                       AND t.tgenabled = 'A') g
    UNION ALL
    -- hash chains: the last recorded verification
    SELECT h.relid::text, 'hash_chain', v.last_run, v.last_result, v.last_error,
           CASE WHEN v.last_run IS NULL THEN 'never verified'
                WHEN v.last_result = 'problems' THEN v.problems || ' problems found by the '
                     || v.last_mode || ' verification of '
                     || pg_catalog.to_char(v.last_run AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC'
                WHEN v.last_verified IS NULL THEN 'never verified clean'
                ELSE 'verified clean ' || pg_catalog.to_char(v.last_verified AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')
                     || ' UTC (' || v.last_mode || ')' END
           || CASE WHEN sc.relid IS NULL THEN ', not scheduled'
                   ELSE ', every ' || sc.every::text END,
           NULL, NULL, NULL, v.last_verified,
           NULL, NULL, NULL, NULL, NULL, COALESCE(v.problems, 0),
           sc.relid IS NOT NULL AND COALESCE(v.last_run, sc.scheduled_at) + 2 * sc.every + 2 * w.naptime < at
      FROM wallet_ops.hash_chains h
      CROSS JOIN w
      LEFT JOIN wallet_ops.verification_state v ON v.relid = h.relid
      LEFT JOIN wallet_ops.verification_schedule sc ON sc.relid = h.relid
$$;
REVOKE ALL ON FUNCTION wallet_ops._status_at(timestamptz) FROM PUBLIC;

CREATE VIEW wallet_ops.status AS
    SELECT s.object, s.kind, s.last_run, s.last_result, s.last_error, s.headline,
           s.runway_until, s.default_rows, s.staleness, s.last_verified
      FROM wallet_ops._status_at(pg_catalog.now()) s
     ORDER BY s.kind, s.object;
COMMENT ON VIEW wallet_ops.status IS
  'One row per managed object: kind, last run, last result, last error and the headline figure (partition runway, rows in the default partition, view staleness, chain last verified)';

-- The checks of health() as of `at`, one row each.
CREATE FUNCTION wallet_ops._health_checks(at timestamptz)
RETURNS TABLE (check_name text, object text, status text, detail text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH w AS (SELECT * FROM wallet_ops._worker_state()),
    s AS (SELECT * FROM wallet_ops._status_at(at))
    SELECT 'worker', pg_catalog.current_database(),
           CASE WHEN NOT w.preloaded THEN 'critical'
                WHEN w.in_recovery THEN 'ok'
                WHEN NOT w.database_allowed THEN 'critical'
                WHEN NOT w.enabled THEN 'warning'
                WHEN w.worker_pid IS NULL THEN 'critical'
                ELSE 'ok' END,
           CASE WHEN NOT w.preloaded
                  THEN 'wallet_ops is not loaded through shared_preload_libraries: no worker maintains partitions, refreshes views or runs scheduled verifications; add wallet_ops to shared_preload_libraries and restart the server'
                WHEN w.in_recovery
                  THEN 'hot standby: the worker starts when this server is promoted'
                WHEN NOT w.database_allowed
                  THEN 'database ' || pg_catalog.quote_ident(pg_catalog.current_database()) || ' is not listed in wallet_ops.databases: no worker serves it'
                WHEN NOT w.enabled
                  THEN 'wallet_ops.enabled is off: the worker runs but does no maintenance'
                WHEN w.worker_pid IS NULL
                  THEN 'no wallet_ops worker is running for database ' || pg_catalog.quote_ident(pg_catalog.current_database())
                ELSE 'worker running as process ' || w.worker_pid || ' since '
                     || pg_catalog.to_char(w.worker_started AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC'
           END
      FROM w
    UNION ALL
    -- partitions: an INSERT may fail without a default partition and
    -- without a partition for the coming period; less than one period of
    -- runway is a warning
    SELECT 'runway', s.object,
           CASE WHEN NOT s.has_default AND (s.runway_until IS NULL OR s.runway_until < at + s.period_length)
                  THEN 'critical'
                WHEN s.runway_until IS NULL OR s.runway_until < at + s.period_length THEN 'warning'
                ELSE 'ok' END,
           CASE WHEN s.runway_until IS NULL THEN 'no partition holds the current time'
                ELSE 'partitions up to ' || pg_catalog.to_char(s.runway_until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC ('
                     || pg_catalog.round((pg_catalog.date_part('epoch', s.runway_until - at)
                                          / pg_catalog.date_part('epoch', s.period_length))::numeric, 2)
                     || ' periods of ' || s.period_length::text || ')' END
           || CASE WHEN NOT s.has_default
                     THEN '; there is no default partition, so an INSERT outside the partitions fails'
                   ELSE '' END
      FROM s WHERE s.kind = 'partitions'
    UNION ALL
    SELECT 'default_rows', s.object,
           CASE WHEN s.default_rows > 0 THEN 'warning' ELSE 'ok' END,
           s.default_rows || ' rows in the default partition'
      FROM s WHERE s.kind = 'partitions' AND s.has_default
    UNION ALL
    SELECT 'maintenance', s.object,
           CASE WHEN s.last_result = 'error' THEN 'warning' ELSE 'ok' END,
           CASE WHEN s.last_run IS NULL THEN 'not run yet'
                ELSE 'last run ' || pg_catalog.to_char(s.last_run AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
                     || ' UTC: ' || COALESCE(s.last_result, 'unknown')
                     || COALESCE(': ' || s.last_error, '') END
      FROM s WHERE s.kind IN ('partitions', 'matview')
    UNION ALL
    SELECT 'staleness', s.object,
           CASE WHEN s.staleness > s.allowed_staleness OR s.refresh_overdue THEN 'warning' ELSE 'ok' END,
           CASE WHEN s.staleness > interval '0'
                  THEN 'stale for ' || pg_catalog.date_trunc('second', s.staleness)::text
                       || ' (allowed ' || s.allowed_staleness::text || ')'
                ELSE 'fresh' END
           || CASE WHEN s.refresh_overdue THEN '; its refresh_every is overdue' ELSE '' END
      FROM s WHERE s.kind = 'matview'
    UNION ALL
    SELECT 'append_only', s.object,
           CASE WHEN s.protection_intact THEN 'ok' ELSE 'critical' END,
           s.headline
      FROM s WHERE s.kind = 'append_only'
    UNION ALL
    SELECT 'verification', s.object,
           CASE WHEN s.last_result = 'problems' THEN 'critical'
                WHEN s.last_result = 'error' OR s.verification_overdue THEN 'warning'
                ELSE 'ok' END,
           s.headline
           || CASE WHEN s.last_result = 'error' THEN ': the last verification failed: ' || s.last_error
                   WHEN s.verification_overdue THEN '; the scheduled verification is overdue'
                   ELSE '' END
      FROM s WHERE s.kind = 'hash_chain'
$$;
REVOKE ALL ON FUNCTION wallet_ops._health_checks(timestamptz) FROM PUBLIC;

CREATE FUNCTION wallet_ops._health_at(at timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH c AS (
        SELECT h.*, CASE h.status WHEN 'critical' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END AS level
          FROM wallet_ops._health_checks(at) h
    )
    SELECT pg_catalog.jsonb_build_object(
        'status', CASE COALESCE((SELECT pg_catalog.max(level) FROM c), 0)
                    WHEN 2 THEN 'critical' WHEN 1 THEN 'warning' ELSE 'ok' END,
        'checked_at', at,
        'checks', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                'check', c.check_name, 'object', c.object,
                                'status', c.status, 'detail', c.detail)
                              ORDER BY c.level DESC, c.check_name, c.object)
                              FROM c), '[]'::jsonb))
$$;
REVOKE ALL ON FUNCTION wallet_ops._health_at(timestamptz) FROM PUBLIC;

CREATE FUNCTION wallet_ops.health()
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT wallet_ops._health_at(pg_catalog.now()) $$;
COMMENT ON FUNCTION wallet_ops.health() IS
  'Overall status ok, warning or critical, with one entry per check: worker, partition runway, default partition rows, view staleness, append-only protection, chain verification';

-- Metric samples: family, help, type, label names and values, value.
CREATE FUNCTION wallet_ops._metric_samples(at timestamptz)
RETURNS TABLE (family_order int, metric text, help text, metric_type text,
               label_names text[], label_values text[], value float8)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH w AS (SELECT * FROM wallet_ops._worker_state()),
    s AS (SELECT * FROM wallet_ops._status_at(at)),
    h AS (SELECT * FROM wallet_ops._health_checks(at)),
    lvl AS (SELECT h.*, CASE h.status WHEN 'critical' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END AS level FROM h)
    SELECT 1, 'wallet_ops_up', 'Always 1: wallet_ops answered this scrape.', 'gauge',
           '{}'::text[], '{}'::text[], 1::float8
    UNION ALL
    SELECT 2, 'wallet_ops_preloaded', '1 when wallet_ops is loaded through shared_preload_libraries, so that its worker can run.', 'gauge',
           '{}', '{}', CASE WHEN w.preloaded THEN 1 ELSE 0 END FROM w
    UNION ALL
    SELECT 3, 'wallet_ops_worker_running', '1 when the wallet_ops worker of this database is running.', 'gauge',
           '{}', '{}', CASE WHEN w.worker_pid IS NOT NULL THEN 1 ELSE 0 END FROM w
    UNION ALL
    SELECT 4, 'wallet_ops_health_status', 'Overall result of wallet_ops.health(): 0 ok, 1 warning, 2 critical.', 'gauge',
           '{}', '{}', COALESCE((SELECT pg_catalog.max(level) FROM lvl), 0)
    UNION ALL
    SELECT 5, 'wallet_ops_health_check_status', 'Result of each check of wallet_ops.health(): 0 ok, 1 warning, 2 critical.', 'gauge',
           ARRAY['check', 'object'], ARRAY[lvl.check_name, lvl.object], lvl.level
      FROM lvl
    UNION ALL
    SELECT 10, 'wallet_ops_partition_runway_seconds', 'Seconds from now to the end of the partitions made ahead of time (0 when no partition holds the current time).', 'gauge',
           ARRAY['table'], ARRAY[s.object],
           GREATEST(COALESCE(pg_catalog.date_part('epoch', s.runway_until - at), 0), 0)
      FROM s WHERE s.kind = 'partitions'
    UNION ALL
    SELECT 11, 'wallet_ops_partition_runway_periods', 'Runway in periods of the table (below 1 is a warning).', 'gauge',
           ARRAY['table'], ARRAY[s.object],
           GREATEST(COALESCE(pg_catalog.date_part('epoch', s.runway_until - at)
                             / pg_catalog.date_part('epoch', s.period_length), 0), 0)
      FROM s WHERE s.kind = 'partitions'
    UNION ALL
    SELECT 12, 'wallet_ops_default_partition_rows', 'Rows in the default partition of a managed table (should be 0).', 'gauge',
           ARRAY['table'], ARRAY[s.object], s.default_rows
      FROM s WHERE s.kind = 'partitions'
    UNION ALL
    SELECT 13, 'wallet_ops_partition_default_missing', '1 when a managed table has no default partition, so that an INSERT outside its partitions fails.', 'gauge',
           ARRAY['table'], ARRAY[s.object], CASE WHEN s.has_default THEN 0 ELSE 1 END
      FROM s WHERE s.kind = 'partitions'
    UNION ALL
    SELECT 20, 'wallet_ops_matview_staleness_seconds', 'Seconds since the first committed change a managed materialised view does not show yet (0 when fresh).', 'gauge',
           ARRAY['view'], ARRAY[s.object], pg_catalog.date_part('epoch', s.staleness)
      FROM s WHERE s.kind = 'matview'
    UNION ALL
    SELECT 21, 'wallet_ops_matview_last_refresh_timestamp_seconds', 'Unix time of the last refresh of a managed materialised view.', 'gauge',
           ARRAY['view'], ARRAY[s.object], pg_catalog.date_part('epoch', ms.last_refresh)
      FROM s JOIN wallet_ops.matview_state ms ON ms.mv::text = s.object
     WHERE s.kind = 'matview' AND ms.last_refresh IS NOT NULL
    UNION ALL
    SELECT 30, 'wallet_ops_append_only_intact', '1 when the guard triggers of an append-only table are in place.', 'gauge',
           ARRAY['table'], ARRAY[s.object], CASE WHEN s.protection_intact THEN 1 ELSE 0 END
      FROM s WHERE s.kind = 'append_only'
    UNION ALL
    SELECT 40, 'wallet_ops_chain_last_verified_timestamp_seconds', 'Unix time of the last verification of a hash-chained table that found no problem.', 'gauge',
           ARRAY['table'], ARRAY[s.object], pg_catalog.date_part('epoch', s.last_verified)
      FROM s WHERE s.kind = 'hash_chain' AND s.last_verified IS NOT NULL
    UNION ALL
    SELECT 41, 'wallet_ops_chain_problems', 'Problems found by the last verification of a hash-chained table (0 when clean or never verified).', 'gauge',
           ARRAY['table'], ARRAY[s.object], s.problems
      FROM s WHERE s.kind = 'hash_chain'
    UNION ALL
    SELECT 42, 'wallet_ops_chain_verification_overdue', '1 when a scheduled verification has not run for twice its interval.', 'gauge',
           ARRAY['table'], ARRAY[s.object], CASE WHEN s.verification_overdue THEN 1 ELSE 0 END
      FROM s WHERE s.kind = 'hash_chain'
    UNION ALL
    SELECT 50, 'wallet_ops_last_run_timestamp_seconds', 'Unix time of the last maintenance, refresh or verification run of an object.', 'gauge',
           ARRAY['object', 'kind'], ARRAY[s.object, s.kind], pg_catalog.date_part('epoch', s.last_run)
      FROM s WHERE s.last_run IS NOT NULL
    UNION ALL
    SELECT 51, 'wallet_ops_last_run_failed', '1 when the last run on an object failed.', 'gauge',
           ARRAY['object', 'kind'], ARRAY[s.object, s.kind], CASE WHEN s.last_result = 'error' THEN 1 ELSE 0 END
      FROM s WHERE s.last_run IS NOT NULL
    UNION ALL
    SELECT 52, 'wallet_ops_job_failures', 'Failed runs recorded in wallet_ops.job_log (kept for wallet_ops.job_log_retention), per object.', 'gauge',
           ARRAY['object'], ARRAY[j.object], pg_catalog.count(*)
      FROM wallet_ops.job_log j WHERE j.outcome = 'error' GROUP BY j.object
    ORDER BY 1, 6
$$;
REVOKE ALL ON FUNCTION wallet_ops._metric_samples(timestamptz) FROM PUBLIC;

CREATE FUNCTION wallet_ops._metrics_at(at timestamptz)
RETURNS text
LANGUAGE C STRICT STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'wallet_ops_metrics';
REVOKE ALL ON FUNCTION wallet_ops._metrics_at(timestamptz) FROM PUBLIC;

CREATE FUNCTION wallet_ops.metrics()
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT wallet_ops._metrics_at(pg_catalog.now()) $$;
COMMENT ON FUNCTION wallet_ops.metrics() IS
  'The figures of wallet_ops.status and wallet_ops.health() in Prometheus text exposition format (version 0.0.4)';

-- Monitoring: members of pg_monitor read these; nobody else unless granted.
REVOKE ALL ON wallet_ops.status FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops.health() FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops.metrics() FROM PUBLIC;
GRANT SELECT ON wallet_ops.status TO pg_monitor;
GRANT EXECUTE ON FUNCTION wallet_ops.health() TO pg_monitor;
GRANT EXECUTE ON FUNCTION wallet_ops.metrics() TO pg_monitor;
-- the view calls this function with its reader's privileges
GRANT EXECUTE ON FUNCTION wallet_ops._status_at(timestamptz) TO pg_monitor;

-- ---------------------------------------------------------------------------
-- Verified replay for disaster recovery: per chain, the last row at or
-- before as_of, once every chain has been verified.  A row's time is the
-- value of time_column, by default the table's range partition key when
-- that is one timestamptz, timestamp or date column.  row_data is the row
-- as jsonb: jsonb_populate_record(NULL::tbl, row_data) rebuilds it.
-- Refuses (SQLSTATE XX001, data_corrupted) when a chain has a problem at
-- or before its last row at as_of, or rows missing anywhere (their time is
-- unknown); read-only, so it runs on a hot standby or a restored copy.
-- ---------------------------------------------------------------------------
CREATE FUNCTION wallet_ops.replay(tbl pg_catalog.regclass,
                                  as_of timestamptz DEFAULT pg_catalog.now(),
                                  time_column name DEFAULT NULL)
RETURNS TABLE (chain_key text, chain_seq bigint, row_hash bytea, row_data jsonb)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cfg record;
    col name := time_column;
    coltype pg_catalog.regtype;
    keyexpr text;
    bad record;
    nbad bigint;
BEGIN
    IF tbl IS NULL OR as_of IS NULL THEN
        RAISE EXCEPTION 'table and as_of must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT h.chain_key AS keys INTO cfg FROM wallet_ops.hash_chains h WHERE h.relid = tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table "%" is not hash-chained', tbl
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Only hash-chained tables can be replayed; use wallet_ops.enable_hash_chain().';
    END IF;
    IF col IS NULL THEN
        SELECT a.attname INTO col
          FROM pg_catalog.pg_partitioned_table p
          JOIN pg_catalog.pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
         WHERE p.partrelid = tbl AND p.partstrat = 'r' AND p.partnatts = 1
           AND a.atttypid IN ('timestamptz'::pg_catalog.regtype, 'timestamp'::pg_catalog.regtype,
                              'date'::pg_catalog.regtype);
        IF col IS NULL THEN
            RAISE EXCEPTION 'cannot tell the time of the rows of table %', tbl
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'The table is not range-partitioned on one timestamptz, timestamp or date column.',
                      HINT = 'Pass the column that holds each row''s time as time_column.';
        END IF;
    END IF;
    SELECT a.atttypid::pg_catalog.regtype INTO coltype FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    IF coltype IS NULL THEN
        RAISE EXCEPTION 'column "%" of table % does not exist', col, tbl USING ERRCODE = 'undefined_column';
    ELSIF coltype NOT IN ('timestamptz'::pg_catalog.regtype, 'timestamp'::pg_catalog.regtype,
                          'date'::pg_catalog.regtype) THEN
        RAISE EXCEPTION 'column "%" of table % is of type %, not a time', col, tbl, coltype
            USING ERRCODE = 'datatype_mismatch',
                  HINT = 'time_column must be of type timestamptz, timestamp or date.';
    END IF;

    -- the chain's name as verify_chain() gives it
    keyexpr := CASE pg_catalog.cardinality(cfg.keys)
        WHEN 0 THEN '''''::text'
        WHEN 1 THEN pg_catalog.format('t.%I::text', cfg.keys[1])
        ELSE 'pg_catalog.jsonb_build_array('
             || (SELECT pg_catalog.string_agg(pg_catalog.format('t.%I::text', k), ', ' ORDER BY n)
                   FROM pg_catalog.unnest(cfg.keys) WITH ORDINALITY u(k, n))
             || ')::text' END;

    -- verify every chain; a problem at or before the last row replayed, or
    -- rows missing, refuses the replay
    EXECUTE pg_catalog.format(
        'WITH p AS (SELECT * FROM wallet_ops.verify_chain(%L::pg_catalog.regclass)),'
        ' cut AS (SELECT %s AS k, pg_catalog.max(t.chain_seq) AS s FROM %s t'
        '          WHERE t.%I <= $1 GROUP BY 1)'
        ' SELECT p.chain_key, p.chain_seq, p.problem, p.detail,'
        '        pg_catalog.count(*) OVER () AS n'
        '   FROM p LEFT JOIN cut ON cut.k = p.chain_key'
        '  WHERE p.chain_key IS NULL OR p.chain_seq IS NULL'
        '     OR p.problem IN (''head_mismatch'', ''missing_row'')'
        '     OR p.chain_seq <= COALESCE(cut.s, 0)'
        '  ORDER BY p.chain_key NULLS FIRST, p.chain_seq LIMIT 1',
        tbl, keyexpr, tbl, col)
      INTO bad USING as_of;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'cannot replay chain "%" of table %: verification found %',
                        COALESCE(bad.chain_key, '(no chain)'), tbl, bad.problem
            USING ERRCODE = 'data_corrupted',
                  DETAIL = pg_catalog.format('%s at chain_seq %s: %s%s', bad.problem,
                                             COALESCE(bad.chain_seq::text, '(none)'), bad.detail,
                                             CASE WHEN bad.n > 1 THEN pg_catalog.format(' (%s problems in all).', bad.n) ELSE '.' END),
                  HINT = 'List every problem with wallet_ops.verify_chain(); restore the table from a backup that verifies against a digest kept outside the database (docs/operations.md).';
    END IF;

    RETURN QUERY EXECUTE pg_catalog.format(
        'SELECT DISTINCT ON (1) %s, t.chain_seq, t.row_hash, pg_catalog.to_jsonb(t)'
        '  FROM %s t WHERE t.%I <= $1 ORDER BY 1, t.chain_seq DESC',
        keyexpr, tbl, col)
      USING as_of;
END
$$;
COMMENT ON FUNCTION wallet_ops.replay(pg_catalog.regclass, timestamptz, name) IS
  'Disaster recovery: per chain, the last row at or before as_of (as jsonb), after verifying every chain; refuses with SQLSTATE XX001 when a chain fails verification up to that point';
