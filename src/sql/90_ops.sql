
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
