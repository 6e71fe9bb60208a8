
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
REVOKE ALL ON FUNCTION wallet_ops._matview_change_seen(pg_catalog.xid8, timestamptz, pg_catalog.pg_snapshot, pg_catalog.xid8, timestamptz) FROM PUBLIC;

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
REVOKE ALL ON FUNCTION wallet_ops._matview_next_mode(pg_catalog.regclass) FROM PUBLIC;

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
REVOKE ALL ON FUNCTION wallet_ops.matview_watch() FROM PUBLIC;

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
                 OR wallet_ops._time_plus(cfg.last_refresh, cfg.refresh_every) <= pg_catalog.now() + nap.naptime / 2))
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
           -- a view never refreshed under management is stale since it
           -- was managed: what it shows is not known
           CASE WHEN m.on_change AND s.refreshed_snapshot IS NULL
                THEN wallet_ops._time_minus(pg_catalog.now(), m.managed_at)
                WHEN p.first_pending IS NOT NULL
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
                  ORDER BY src::pg_catalog.text) AS unwatched_sources,
           CASE WHEN m.on_change AND s.refreshed_snapshot IS NULL
                  THEN 'not refreshed since it was managed'
                WHEN p.first_pending IS NOT NULL
                  THEN 'a source changed after the last refresh'
           END AS stale_reason
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
  'Per managed materialised view: when its sources last changed, when it was last refreshed and how, whether it is stale, for how long and why, the last result, and the sources whose watcher is missing or disabled';
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

REVOKE ALL ON FUNCTION wallet_ops._matviews_ddl() FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops._matviews_drop() FROM PUBLIC;

CREATE EVENT TRIGGER wallet_ops_matviews_ddl ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'CREATE VIEW', 'CREATE RULE')
    EXECUTE FUNCTION wallet_ops._matviews_ddl();
ALTER EVENT TRIGGER wallet_ops_matviews_ddl ENABLE ALWAYS;

CREATE EVENT TRIGGER wallet_ops_matviews_drop ON sql_drop
    EXECUTE FUNCTION wallet_ops._matviews_drop();
ALTER EVENT TRIGGER wallet_ops_matviews_drop ENABLE ALWAYS;
