/* wallet_ops--1.0.0--1.1.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION wallet_ops UPDATE TO '1.1.0'" to load this file. \quit

-- Every change to the SQL of 1.0.0, in the order of src/sql/.  After this
-- script, an upgraded installation has the same objects, definitions and
-- privileges as a fresh 1.1.0 one (t/002_upgrade.pl compares the two).

-- ---------------------------------------------------------------------------
-- A table that does not exist is refused with 42P01 before anything else
-- (schedule_verification, unschedule_verification, replay).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION wallet_ops.schedule_verification(tbl pg_catalog.regclass, every interval,
                                                 full_every interval DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    naptime interval;
    old record;
    rescheduled boolean;
    full_interval interval;
BEGIN
    IF tbl IS NULL OR every IS NULL THEN
        RAISE EXCEPTION 'table and interval must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = tbl) THEN
        RAISE EXCEPTION 'relation with OID % does not exist', tbl::pg_catalog.oid
            USING ERRCODE = 'undefined_table',
                  HINT = 'Pass the table by name, for example ''schema.table''.';
    END IF;
    IF (SELECT c.relnamespace FROM pg_catalog.pg_class c WHERE c.oid = tbl)
       IN ('wallet_ops'::pg_catalog.regnamespace, 'pg_catalog'::pg_catalog.regnamespace,
           'pg_toast'::pg_catalog.regnamespace) THEN
        RAISE EXCEPTION 'cannot schedule the verification of "%"', tbl
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'wallet_ops guards user tables only, not system catalogs or its own tables.';
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
    -- bounded, so that every time computed from them stays in range
    IF every > interval '100 years' OR full_every > interval '100 years'
       OR wallet_ops._time_plus(pg_catalog.now(), every, 4) IS NULL
       OR wallet_ops._time_plus(pg_catalog.now(), full_every, 4) IS NULL AND full_every IS NOT NULL THEN
        RAISE EXCEPTION 'verification interval is too long'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('every = %s, full_every = %s; at most 100 years.', every, COALESCE(full_every::text, 'NULL'));
    END IF;
    -- the worker looks for due verifications once a tick: a shorter
    -- interval would verify the table in full or in part on every tick
    PERFORM wallet_ops._preloaded();    -- loads the library, which defines wallet_ops.naptime
    naptime := pg_catalog.make_interval(secs => COALESCE(
        (SELECT s.setting::pg_catalog.float8 FROM pg_catalog.pg_settings s WHERE s.name = 'wallet_ops.naptime'), 60));
    IF every < naptime THEN
        RAISE EXCEPTION 'verification interval of table "%" is shorter than wallet_ops.naptime', tbl
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('The worker looks for due verifications every %s; every is %s.',
                                             wallet_ops._interval_words(naptime), wallet_ops._interval_words(every)),
                  HINT = pg_catalog.format('Schedule it at least %s apart, or lower wallet_ops.naptime.',
                                           wallet_ops._interval_words(naptime));
    END IF;
    -- a setting not named is kept
    SELECT s.every, s.full_every INTO old
      FROM wallet_ops.verification_schedule s WHERE s.relid = tbl FOR UPDATE;
    rescheduled := FOUND;
    full_interval := COALESCE(full_every, old.full_every);
    IF full_interval < every THEN
        RAISE EXCEPTION 'full verification interval of table "%" is shorter than its verification interval', tbl
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('every = %s, full_every = %s%s.', wallet_ops._interval_words(every),
                                             wallet_ops._interval_words(full_interval),
                                             CASE WHEN full_every IS NULL THEN ' (kept from the current schedule)' ELSE '' END),
                  HINT = CASE WHEN full_every IS NULL
                              THEN 'Pass a full_every at least as long as every, or call wallet_ops.unschedule_verification() first to drop the full verifications.'
                              ELSE 'Pass a full_every at least as long as every; with full_every equal to every, every verification is full.' END;
    END IF;
    INSERT INTO wallet_ops.verification_schedule AS s (relid, every, full_every)
    VALUES (tbl, every, full_interval)
    ON CONFLICT (relid) DO UPDATE SET every = EXCLUDED.every, full_every = EXCLUDED.full_every,
                                      scheduled_at = pg_catalog.now(), scheduled_by = CURRENT_USER;
    IF rescheduled THEN
        RAISE NOTICE 'verification of table "%" rescheduled: every %, %', tbl,
            wallet_ops._interval_words(every)
            || CASE WHEN old.every = every THEN ' (unchanged)'
                    ELSE ' (was ' || wallet_ops._interval_words(old.every) || ')' END,
            CASE WHEN full_interval IS NULL THEN 'no periodic full verification'
                 ELSE 'in full every ' || wallet_ops._interval_words(full_interval) END
            || CASE WHEN full_every IS NULL AND old.full_every IS NOT NULL THEN ' (kept)'
                    WHEN old.full_every IS NOT DISTINCT FROM full_interval THEN ' (unchanged)'
                    WHEN old.full_every IS NULL THEN ' (was none)'
                    ELSE ' (was ' || wallet_ops._interval_words(old.full_every) || ')' END;
    END IF;
    -- the database may have had nothing for the worker to do until now
    PERFORM wallet_ops._worker_wake();
END
$$;

CREATE OR REPLACE FUNCTION wallet_ops.unschedule_verification(tbl pg_catalog.regclass)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tbl IS NULL THEN
        RAISE EXCEPTION 'table must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = tbl) THEN
        RAISE EXCEPTION 'relation with OID % does not exist', tbl::pg_catalog.oid
            USING ERRCODE = 'undefined_table',
                  HINT = 'Pass the table by name, for example ''schema.table''.';
    END IF;
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

CREATE OR REPLACE FUNCTION wallet_ops.replay(tbl pg_catalog.regclass,
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
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = tbl) THEN
        RAISE EXCEPTION 'relation with OID % does not exist', tbl::pg_catalog.oid
            USING ERRCODE = 'undefined_table',
                  HINT = 'Pass the table by name, for example ''schema.table''.';
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
                  HINT = 'Pass as time_column a column of type timestamptz, timestamp or date.';
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

-- ---------------------------------------------------------------------------
-- No internal, trigger or event-trigger function is executable by PUBLIC,
-- except the two row-trigger functions PostgreSQL clones to partitions:
-- it checks EXECUTE as the role creating the partition, so they stay
-- executable and refuse to fire under any other trigger name.  Trigger
-- functions are not checked for EXECUTE when they fire, and the views and
-- SECURITY DEFINER functions that call the others run with their owner's
-- privileges.
-- ---------------------------------------------------------------------------
REVOKE ALL ON FUNCTION wallet_ops._matview_change_seen(pg_catalog.xid8, timestamptz, pg_catalog.pg_snapshot, pg_catalog.xid8, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops._matview_next_mode(pg_catalog.regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops.matview_watch() FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops._matviews_ddl() FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops._matviews_drop() FROM PUBLIC;
REVOKE ALL ON FUNCTION wallet_ops._preloaded() FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- When this database's last tick ran, for health(); not dumped (a restored
-- database has not been ticked yet).
CREATE TABLE wallet_ops.worker_state (
    singleton           boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    since               timestamptz NOT NULL DEFAULT pg_catalog.now(),
    last_tick_started   timestamptz,
    last_tick_finished  timestamptz,
    ticks               bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE wallet_ops.worker_state IS
  'The last tick of the wallet_ops worker in this database (one row; since: when the extension was created or updated here)';
REVOKE ALL ON wallet_ops.worker_state FROM PUBLIC;
GRANT SELECT ON wallet_ops.worker_state TO pg_monitor;
INSERT INTO wallet_ops.worker_state DEFAULT VALUES;

-- Once the calling transaction commits, the launcher looks at this
-- database: CREATE EXTENSION (_worker_notify), or something to maintain
-- changed (_worker_wake).  Do nothing when the library is not preloaded.
CREATE FUNCTION wallet_ops._worker_wake()
RETURNS void
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_worker_wake';
REVOKE ALL ON FUNCTION wallet_ops._worker_wake() FROM PUBLIC;

-- The worker pool as the launcher last published it (NULLs without it).
CREATE FUNCTION wallet_ops._worker_pool(
    OUT pool_size integer, OUT workers_running integer, OUT launcher_pid integer,
    OUT databases_known integer, OUT databases_recurring integer,
    OUT longest_tick_seconds float8, OUT workers_started bigint,
    OUT start_failures bigint, OUT shortage_since timestamptz,
    OUT launcher_started timestamptz)
RETURNS record
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'wallet_ops_worker_pool';
REVOKE ALL ON FUNCTION wallet_ops._worker_pool() FROM PUBLIC;

DROP FUNCTION wallet_ops._worker_state();
-- The worker pool as this database sees it: the settings, the launcher's
-- figures, the worker serving this database now (if any), its last tick,
-- and tick_bound, the longest a database with something to maintain waits
-- between ticks: naptime * ceil(databases / workers) + the longest tick.
CREATE FUNCTION wallet_ops._worker_state(
    OUT preloaded boolean, OUT enabled boolean, OUT in_recovery boolean,
    OUT database_allowed boolean, OUT worker_pid integer,
    OUT worker_started timestamptz, OUT naptime interval,
    OUT launcher_pid integer, OUT pool_size integer, OUT databases integer,
    OUT tick_bound interval, OUT start_failures bigint,
    OUT shortage_since timestamptz, OUT needs_ticks boolean,
    OUT last_tick_started timestamptz, OUT last_tick_finished timestamptz,
    OUT waiting_since timestamptz)
RETURNS record
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH p AS (SELECT * FROM wallet_ops._worker_pool()),
    n AS (SELECT pg_catalog.make_interval(secs => COALESCE(
               (SELECT s.setting::pg_catalog.float8 FROM pg_catalog.pg_settings s
                 WHERE s.name = 'wallet_ops.naptime'), 60)) AS naptime),
    t AS (SELECT * FROM wallet_ops.worker_state LIMIT 1)
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
           n.naptime,
           p.launcher_pid, p.pool_size, p.databases_recurring,
           n.naptime
             + pg_catalog.make_interval(secs => COALESCE(p.longest_tick_seconds, 0)
                 * (pg_catalog.ceil(GREATEST(p.databases_recurring, 1)::pg_catalog.numeric
                                    / GREATEST(p.pool_size, 1))::float8 + 1)),
           p.start_failures, p.shortage_since,
           EXISTS (SELECT 1 FROM wallet_ops.partition_config)
             OR EXISTS (SELECT 1 FROM wallet_ops.verification_schedule)
             OR EXISTS (SELECT 1 FROM wallet_ops.matviews m WHERE m.refresh_every IS NOT NULL)
             OR EXISTS (SELECT 1 FROM wallet_ops.matview_changes),
           t.last_tick_started, t.last_tick_finished,
           -- a tick is awaited from the last one, or since the extension
           -- was created here or the launcher (re)started
           GREATEST(COALESCE(t.last_tick_started, t.since), p.launcher_started)
      FROM pg_catalog.pg_database d
      CROSS JOIN p CROSS JOIN n LEFT JOIN t ON true
     WHERE d.datname = pg_catalog.current_database()
$$;
REVOKE ALL ON FUNCTION wallet_ops._worker_state() FROM PUBLIC;

-- The worker check of health() as of `at`.
CREATE FUNCTION wallet_ops._worker_check(at timestamptz, OUT status text, OUT detail text)
RETURNS record
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN NOT w.preloaded THEN 'critical'
                WHEN w.in_recovery THEN 'ok'
                WHEN NOT w.database_allowed THEN 'critical'
                WHEN NOT w.enabled THEN 'warning'
                WHEN w.launcher_pid IS NULL THEN 'critical'
                WHEN w.needs_ticks AND wallet_ops._time_minus(at, w.waiting_since) > 2 * w.tick_bound THEN 'warning'
                WHEN w.shortage_since IS NOT NULL THEN 'warning'
                ELSE 'ok' END,
           CASE WHEN NOT w.preloaded
                  THEN 'wallet_ops is not loaded through shared_preload_libraries: no worker maintains partitions, refreshes views or runs scheduled verifications; add wallet_ops to shared_preload_libraries and restart the server'
                WHEN w.in_recovery
                  THEN 'hot standby: the worker starts when this server is promoted'
                WHEN NOT w.database_allowed
                  THEN 'database ' || pg_catalog.quote_ident(pg_catalog.current_database()) || ' is not listed in wallet_ops.databases: no worker serves it'
                WHEN NOT w.enabled
                  THEN 'wallet_ops.enabled is off: no maintenance is done'
                WHEN w.launcher_pid IS NULL
                  THEN 'no wallet_ops launcher is running: no worker serves database ' || pg_catalog.quote_ident(pg_catalog.current_database())
                       || '; the postmaster restarts it within 10 seconds, else see the server log'
                WHEN w.needs_ticks AND wallet_ops._time_minus(at, w.waiting_since) > 2 * w.tick_bound
                  THEN 'no tick in database ' || pg_catalog.quote_ident(pg_catalog.current_database())
                       || ' for ' || wallet_ops._interval_words(wallet_ops._time_minus(at, w.waiting_since))
                       || ', more than twice the bound of ' || wallet_ops._interval_words(w.tick_bound)
                       || ' (' || w.databases || ' databases, ' || w.pool_size || ' workers)'
                       || CASE WHEN w.shortage_since IS NOT NULL
                               THEN '; no background worker slot was free since '
                                    || pg_catalog.to_char(w.shortage_since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC: raise max_worker_processes'
                               ELSE '; see wallet_ops.job_log and the server log' END
                WHEN w.shortage_since IS NOT NULL
                  THEN 'no background worker slot was free for a wallet_ops worker since '
                       || pg_catalog.to_char(w.shortage_since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
                       || ' UTC: databases wait for their ticks; raise max_worker_processes'
                WHEN NOT w.needs_ticks
                  THEN 'nothing here needs the worker at intervals: a tick comes when something is managed or a source of a managed view changes'
                ELSE 'last tick ' || COALESCE(pg_catalog.to_char(w.last_tick_started AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC', 'not yet')
                     || '; a tick at least every ' || wallet_ops._interval_words(w.tick_bound)
                     || ' (' || w.databases || ' databases, ' || w.pool_size || ' workers)'
           END
      FROM wallet_ops._worker_state() w
$$;
REVOKE ALL ON FUNCTION wallet_ops._worker_check(timestamptz) FROM PUBLIC;

-- The worker's metric samples as of `at` (see _metric_samples).
CREATE FUNCTION wallet_ops._worker_metric_samples(at timestamptz)
RETURNS TABLE (family_order int, metric text, help text, metric_type text,
               label_names text[], label_values text[], value float8)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH w AS (SELECT * FROM wallet_ops._worker_state())
    SELECT 2, 'wallet_ops_preloaded', '1 when wallet_ops is loaded through shared_preload_libraries, so that its worker can run.', 'gauge',
           '{}'::text[], '{}'::text[], CASE WHEN w.preloaded THEN 1 ELSE 0 END::float8 FROM w
    UNION ALL
    SELECT 3, 'wallet_ops_worker_running', '1 when the wallet_ops launcher runs and serves this database (its workers come for each tick and leave).', 'gauge',
           '{}', '{}', CASE WHEN w.launcher_pid IS NOT NULL AND w.database_allowed AND w.enabled THEN 1 ELSE 0 END FROM w
    UNION ALL
    SELECT 6, 'wallet_ops_worker_tick_age_seconds', 'Seconds since the last tick in this database began (or since the worker was first awaited here).', 'gauge',
           '{}', '{}', GREATEST(pg_catalog.date_part('epoch', wallet_ops._time_minus(at, w.waiting_since)), 0)
      FROM w WHERE w.waiting_since IS NOT NULL
    UNION ALL
    SELECT 7, 'wallet_ops_worker_tick_bound_seconds', 'Longest a database with something to maintain waits between ticks: naptime + (ceil(databases / wallet_ops.max_workers) + 1) * the longest worker run.', 'gauge',
           '{}', '{}', pg_catalog.date_part('epoch', w.tick_bound)
      FROM w WHERE w.tick_bound IS NOT NULL
    UNION ALL
    SELECT 8, 'wallet_ops_worker_needs_ticks', '1 when this database has something the worker maintains at intervals.', 'gauge',
           '{}', '{}', CASE WHEN w.needs_ticks THEN 1 ELSE 0 END FROM w
    UNION ALL
    SELECT 9, 'wallet_ops_worker_slot_shortage', '1 while the launcher cannot start a worker for want of a free background worker slot (raise max_worker_processes).', 'gauge',
           '{}', '{}', CASE WHEN w.shortage_since IS NOT NULL THEN 1 ELSE 0 END FROM w
    UNION ALL
    SELECT 9, 'wallet_ops_worker_start_failures_total', 'Worker starts that failed for want of a background worker slot since the server started.', 'counter',
           '{}', '{}', COALESCE(w.start_failures, 0) FROM w
$$;
REVOKE ALL ON FUNCTION wallet_ops._worker_metric_samples(timestamptz) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- status, health(), metrics() and the worker survive one object with an
-- extreme interval or time: its figures become NULL (health() warns)
-- instead of the whole answer failing with 22008 for everyone.
-- ---------------------------------------------------------------------------
CREATE FUNCTION wallet_ops._time_plus(t timestamptz, i interval, times integer DEFAULT 1)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN t + times * i;
EXCEPTION WHEN datetime_field_overflow OR interval_field_overflow THEN
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION wallet_ops._time_plus(timestamptz, interval, integer) FROM PUBLIC;

CREATE FUNCTION wallet_ops._time_minus(a timestamptz, b timestamptz)
RETURNS interval
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN a - b;
EXCEPTION WHEN datetime_field_overflow OR interval_field_overflow THEN
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION wallet_ops._time_minus(timestamptz, timestamptz) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- An interval in the words a person reads: its largest unit and, when not
-- zero, the next one ("3 days 4 hours", "2 hours", "5 minutes 3 seconds",
-- "1 month").  Hours beyond a day are counted as days, days are never
-- counted as months (a month has no fixed length), and fractions of a
-- second are dropped.  For the details of health(), wallet_ops.status and
-- wallet_ops.health_checks.
-- ---------------------------------------------------------------------------
CREATE FUNCTION wallet_ops._interval_words(i interval)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j interval;
    units text[] := ARRAY['year', 'month', 'day', 'hour', 'minute', 'second'];
    amounts float8[];
    words text := '';
BEGIN
    IF NOT pg_catalog.isfinite(i) THEN
        RETURN i::text;
    END IF;
    j := pg_catalog.justify_hours(i);
    amounts := ARRAY[pg_catalog.date_part('year', j), pg_catalog.date_part('month', j),
                     pg_catalog.date_part('day', j), pg_catalog.date_part('hour', j),
                     pg_catalog.date_part('minute', j), pg_catalog.date_part('second', j)];
    -- fields of both signs ('1 month -3 days'): counted in 30-day months
    IF 0 < ANY (amounts) AND 0 > ANY (amounts) THEN
        j := pg_catalog.justify_interval(i);
    END IF;
    IF j < interval '0' THEN
        RETURN '-' || wallet_ops._interval_words(-j);
    END IF;
    IF j = interval '0' THEN
        RETURN '0 seconds';
    ELSIF j < interval '1 second' THEN
        RETURN 'less than a second';
    END IF;
    amounts := ARRAY[pg_catalog.date_part('year', j), pg_catalog.date_part('month', j),
                     pg_catalog.date_part('day', j), pg_catalog.date_part('hour', j),
                     pg_catalog.date_part('minute', j), pg_catalog.floor(pg_catalog.date_part('second', j))];
    FOR k IN 1 .. 6 LOOP
        CONTINUE WHEN amounts[k] = 0;
        words := amounts[k]::numeric::text || ' ' || units[k] || CASE WHEN amounts[k] = 1 THEN '' ELSE 's' END;
        IF k < 6 AND amounts[k + 1] <> 0 THEN
            words := words || ' ' || amounts[k + 1]::numeric::text || ' ' || units[k + 1]
                     || CASE WHEN amounts[k + 1] = 1 THEN '' ELSE 's' END;
        END IF;
        RETURN words;
    END LOOP;
    RETURN words;
END
$$;
REVOKE ALL ON FUNCTION wallet_ops._interval_words(interval) FROM PUBLIC;

CREATE OR REPLACE FUNCTION wallet_ops._matviews_due(only_mv pg_catalog.regclass DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION wallet_ops._status_at(at timestamptz)
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
           CASE WHEN f.stale THEN 'stale for ' || COALESCE(wallet_ops._interval_words(st.staleness), 'an unknown time')
                ELSE 'fresh' END
           || COALESCE(', refreshed ' || pg_catalog.to_char(s.last_refresh AT TIME ZONE 'UTC',
                                                           'YYYY-MM-DD HH24:MI:SS') || ' UTC',
                       ', never refreshed'),
           NULL, NULL, st.staleness, NULL,
           NULL, NULL, 2 * w.naptime,
           -- NULL when refresh_every cannot be added (health() warns)
           m.refresh_every IS NOT NULL
             AND wallet_ops._time_plus(wallet_ops._time_plus(COALESCE(s.last_refresh, m.managed_at),
                                                             m.refresh_every), w.naptime, 2) < at,
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
                     THEN wallet_ops._time_minus(at, m.managed_at)
                   ELSE f.staleness + wallet_ops._time_minus(at, pg_catalog.now())
                 END AS raw) r
      CROSS JOIN LATERAL (
          SELECT CASE WHEN r.raw < interval '0' THEN interval '0' ELSE r.raw END AS staleness) st
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
                   ELSE ', every ' || wallet_ops._interval_words(sc.every) END,
           NULL, NULL, NULL, v.last_verified,
           NULL, NULL, NULL, NULL, NULL, COALESCE(v.problems, 0),
           -- NULL when the schedule's interval cannot be added (health() warns)
           sc.relid IS NOT NULL
             AND wallet_ops._time_plus(wallet_ops._time_plus(COALESCE(v.last_run, sc.scheduled_at),
                                                             sc.every, 2), w.naptime, 2) < at
      FROM wallet_ops.hash_chains h
      CROSS JOIN w
      LEFT JOIN wallet_ops.verification_state v ON v.relid = h.relid
      LEFT JOIN wallet_ops.verification_schedule sc ON sc.relid = h.relid
$$;

CREATE OR REPLACE FUNCTION wallet_ops._health_checks(at timestamptz)
RETURNS TABLE (check_name text, object text, status text, detail text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH s AS (SELECT * FROM wallet_ops._status_at(at))
    SELECT 'worker', pg_catalog.current_database(), w.status, w.detail
      FROM wallet_ops._worker_check(at) w
    UNION ALL
    SELECT * FROM wallet_ops._digest_checks(at)
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
                ELSE 'partitions up to ' || pg_catalog.to_char(s.runway_until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC, '
                     || COALESCE(wallet_ops._interval_words(wallet_ops._time_minus(s.runway_until, at)), 'an unknown time')
                     || ' ahead (at least ' || wallet_ops._interval_words(s.period_length) || ' is ok)' END
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
           CASE WHEN s.staleness > s.allowed_staleness OR s.refresh_overdue
                     OR s.staleness IS NULL OR s.refresh_overdue IS NULL THEN 'warning'
                ELSE 'ok' END,
           CASE WHEN s.staleness IS NULL THEN 'staleness cannot be computed: a time is out of range'
                WHEN s.staleness > interval '0'
                  THEN 'stale for ' || wallet_ops._interval_words(s.staleness)
                       || ' (at most ' || wallet_ops._interval_words(s.allowed_staleness) || ' is ok)'
                ELSE 'fresh' END
           || CASE WHEN s.refresh_overdue THEN '; its refresh_every is overdue'
                   WHEN s.refresh_overdue IS NULL THEN '; its refresh_every is out of range, so whether it is overdue is unknown'
                   ELSE '' END
      FROM s WHERE s.kind = 'matview'
    UNION ALL
    SELECT 'append_only', s.object,
           CASE WHEN s.protection_intact THEN 'ok' ELSE 'critical' END,
           s.headline
      FROM s WHERE s.kind = 'append_only'
    UNION ALL
    SELECT 'verification', s.object,
           CASE WHEN s.last_result = 'problems' THEN 'critical'
                WHEN s.last_result = 'error' OR s.verification_overdue
                     OR s.verification_overdue IS NULL THEN 'warning'
                ELSE 'ok' END,
           s.headline
           || CASE WHEN s.last_result = 'error' THEN ': the last verification failed: ' || s.last_error
                   WHEN s.verification_overdue THEN '; the scheduled verification is overdue'
                   WHEN s.verification_overdue IS NULL
                     THEN '; the schedule''s interval is out of range, so whether it is overdue is unknown'
                   ELSE '' END
      FROM s WHERE s.kind = 'hash_chain'
$$;

CREATE OR REPLACE FUNCTION wallet_ops._metric_samples(at timestamptz)
RETURNS TABLE (family_order int, metric text, help text, metric_type text,
               label_names text[], label_values text[], value float8)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH s AS (SELECT * FROM wallet_ops._status_at(at)),
    h AS (SELECT * FROM wallet_ops._health_checks(at)),
    lvl AS (SELECT h.*, CASE h.status WHEN 'critical' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END AS level FROM h)
    SELECT 1, 'wallet_ops_up', 'Always 1: wallet_ops answered this scrape.', 'gauge',
           '{}'::text[], '{}'::text[], 1::float8
    UNION ALL
    SELECT * FROM wallet_ops._worker_metric_samples(at)
    UNION ALL
    SELECT * FROM wallet_ops._digest_metric_samples(at)
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
           GREATEST(COALESCE(pg_catalog.date_part('epoch', wallet_ops._time_minus(s.runway_until, at)), 0), 0)
      FROM s WHERE s.kind = 'partitions'
    UNION ALL
    SELECT 11, 'wallet_ops_partition_runway_periods', 'Runway in periods of the table (below 1 is a warning).', 'gauge',
           ARRAY['table'], ARRAY[s.object],
           GREATEST(COALESCE(pg_catalog.date_part('epoch', wallet_ops._time_minus(s.runway_until, at))
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
           ARRAY['table'], ARRAY[s.object], s.verification_overdue::int
      FROM s WHERE s.kind = 'hash_chain'
    UNION ALL
    SELECT 43, 'wallet_ops_chain_audit_age_seconds', 'Seconds since the last verification of a hash-chained table that found no problem; for a table never verified clean, since it was hash-chained.', 'gauge',
           ARRAY['table'], ARRAY[s.object],
           GREATEST(pg_catalog.date_part('epoch', wallet_ops._time_minus(at, COALESCE(s.last_verified, h.enabled_at))), 0)
      FROM s JOIN wallet_ops.hash_chains h ON h.relid::text = s.object
     WHERE s.kind = 'hash_chain'
    UNION ALL
    SELECT 50, 'wallet_ops_last_run_timestamp_seconds', 'Unix time of the last maintenance, refresh or verification run of an object.', 'gauge',
           ARRAY['object', 'kind'], ARRAY[s.object, s.kind], pg_catalog.date_part('epoch', s.last_run)
      FROM s WHERE s.last_run IS NOT NULL
    UNION ALL
    SELECT 51, 'wallet_ops_last_run_failed', '1 when the last run on an object failed.', 'gauge',
           ARRAY['object', 'kind'], ARRAY[s.object, s.kind], CASE WHEN s.last_result = 'error' THEN 1 ELSE 0 END
      FROM s WHERE s.last_run IS NOT NULL
    UNION ALL
    SELECT 52, 'wallet_ops_job_failures', 'Failed runs recorded in wallet_ops.job_log (kept for wallet_ops.job_log_retention), per object and kind; 0 for every managed object and for the worker of the database until one fails.', 'gauge',
           ARRAY['object', 'kind'], ARRAY[o.object, o.kind],
           (SELECT pg_catalog.count(*) FROM wallet_ops.job_log j
             WHERE j.object = o.object AND j.kind = o.kind AND j.outcome = 'error')
      FROM (SELECT s.object, s.kind FROM s
            UNION
            SELECT pg_catalog.current_database()::text, 'worker'
            UNION
            SELECT j.object, j.kind FROM wallet_ops.job_log j WHERE j.outcome = 'error') o
    ORDER BY 1, 6
$$;

-- ---------------------------------------------------------------------------
-- A bounded worker pool (wallet_ops.max_workers): workers come for a
-- database's tick and leave; the launcher is woken when something is
-- managed or a source of a managed view changes; health() and metrics()
-- report the pool and each database's last tick.
-- ---------------------------------------------------------------------------
-- A DBA's first hour (issue 21): nothing changes silently, alerts can fire
-- from the day an object is managed, and what people read is in words.
--
-- schedule_verification() refuses an interval shorter than
-- wallet_ops.naptime and a full_every shorter than every, and keeps the
-- full_every not named (above); a view never refreshed under management is
-- stale since it was managed, and says why; wallet_ops.health_checks is
-- health() for people; every chained table has an audit age and every
-- managed object a failure count from the start (_metric_samples above).
-- ---------------------------------------------------------------------------
COMMENT ON FUNCTION wallet_ops.schedule_verification(pg_catalog.regclass, interval, interval) IS
  'The worker verifies a hash-chained table every `every` (at least wallet_ops.naptime), incrementally from the last clean verification, in full every full_every (at least every; NULL keeps the current one); table owner';

CREATE OR REPLACE VIEW wallet_ops.matview_freshness AS
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

COMMENT ON VIEW wallet_ops.status IS
  'One row per managed object: kind, last run, last result, last error and the headline figure (partition runway, rows in the default partition, view staleness, chain last verified); members of pg_monitor may read it';

COMMENT ON FUNCTION wallet_ops.health() IS
  'Overall status ok, warning or critical, with one entry per check: worker, partition runway, default partition rows, view staleness, append-only protection, chain verification; JSON for machines (wallet_ops.health_checks is the same for people); members of pg_monitor may call it';

-- The checks of health() for people, one row each, the worst first.
CREATE VIEW wallet_ops.health_checks AS
    SELECT h.check_name, h.object, h.status, h.detail
      FROM wallet_ops._health_checks(pg_catalog.now()) h
     ORDER BY CASE h.status WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
              h.check_name, h.object;
COMMENT ON VIEW wallet_ops.health_checks IS
  'The checks of wallet_ops.health(), one row each, the worst first, with details in words; members of pg_monitor may read it';

COMMENT ON FUNCTION wallet_ops.metrics() IS
  'The figures of wallet_ops.status and wallet_ops.health() in Prometheus text exposition format (version 0.0.4); members of pg_monitor may call it';

REVOKE ALL ON wallet_ops.health_checks FROM PUBLIC;
GRANT SELECT ON wallet_ops.health_checks TO pg_monitor;
GRANT EXECUTE ON FUNCTION wallet_ops._health_checks(timestamptz) TO pg_monitor;

-- ---------------------------------------------------------------------------
-- Parallel verification: verify_chain(tbl, chain_value, jobs).
-- ---------------------------------------------------------------------------
DROP FUNCTION wallet_ops.verify_chain(pg_catalog.regclass, pg_catalog.text);
CREATE FUNCTION wallet_ops.verify_chain(tbl pg_catalog.regclass,
                                        chain_value pg_catalog.text DEFAULT NULL,
                                        jobs pg_catalog.int4 DEFAULT NULL)
RETURNS TABLE (chain_key pg_catalog.text, chain_seq pg_catalog.int8,
               problem pg_catalog.text, detail pg_catalog.text)
LANGUAGE C CALLED ON NULL INPUT STABLE
AS 'MODULE_PATHNAME', 'wallet_ops_verify_chain';
COMMENT ON FUNCTION wallet_ops.verify_chain(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4) IS
  'Recompute every row hash and link of a hash-chained table (or of one chain), its first pass shared by jobs processes, this one and parallel workers (NULL: wallet_ops.verify_jobs); one row per problem, none when intact';

-- ---------------------------------------------------------------------------
-- A chain without its index: enable_hash_chain(..., chain_index => false).
-- ---------------------------------------------------------------------------
DROP FUNCTION wallet_ops.enable_hash_chain(pg_catalog.regclass, pg_catalog.name[], pg_catalog.name[]);
CREATE FUNCTION wallet_ops.enable_hash_chain(tbl pg_catalog.regclass,
                                             chain_key pg_catalog.name[] DEFAULT '{}',
                                             hashed_columns pg_catalog.name[] DEFAULT NULL,
                                             chain_index pg_catalog.bool DEFAULT true)
RETURNS void
LANGUAGE C CALLED ON NULL INPUT
AS 'MODULE_PATHNAME', 'wallet_ops_enable_hash_chain';
COMMENT ON FUNCTION wallet_ops.enable_hash_chain(pg_catalog.regclass, pg_catalog.name[], pg_catalog.name[], pg_catalog.bool) IS
  'Turn a table (plain or partitioned) into a hash-chained one, with the (chain key, chain_seq) index unless chain_index is false; the caller must own it';


-- ---------------------------------------------------------------------------
-- Signed digests (docs/compliance.md, bytes in docs/hash-format.md): the
-- Ed25519 public keys trusted to sign digests.  Digests are signed outside
-- the database (wallet_ops_verify digest --sign-key); no private key is
-- ever stored here.
-- ---------------------------------------------------------------------------
CREATE TABLE wallet_ops.digest_keys (
    name       pg_catalog.text PRIMARY KEY,
    key_id     pg_catalog.text NOT NULL UNIQUE,
    public_key pg_catalog.bytea NOT NULL,
    trusted_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    trusted_by pg_catalog.name NOT NULL,
    revoked_at pg_catalog.timestamptz,
    revoked_by pg_catalog.name
);
COMMENT ON TABLE wallet_ops.digest_keys IS
  'Ed25519 public keys trusted to sign digests: key_id is the SHA-256 of the 32-byte key; a revoked key stays, refused';

SELECT pg_catalog.pg_extension_config_dump('wallet_ops.digest_keys', '');

REVOKE ALL ON wallet_ops.digest_keys FROM PUBLIC;
GRANT SELECT ON wallet_ops.digest_keys TO PUBLIC;

CREATE FUNCTION wallet_ops.trust_digest_key(name pg_catalog.text, public_key_pem pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_trust_digest_key';
COMMENT ON FUNCTION wallet_ops.trust_digest_key(pg_catalog.text, pg_catalog.text) IS
  'Trust an Ed25519 public key (PEM) to sign digests; returns its key id (superuser, or granted)';
REVOKE ALL ON FUNCTION wallet_ops.trust_digest_key(pg_catalog.text, pg_catalog.text) FROM PUBLIC;

CREATE FUNCTION wallet_ops.revoke_digest_key(name pg_catalog.text)
RETURNS void
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_revoke_digest_key';
COMMENT ON FUNCTION wallet_ops.revoke_digest_key(pg_catalog.text) IS
  'Revoke a digest key: digests it signed are refused from now on (superuser, or granted)';
REVOKE ALL ON FUNCTION wallet_ops.revoke_digest_key(pg_catalog.text) FROM PUBLIC;


-- ---------------------------------------------------------------------------
-- Proof for one chain (docs/hash-format.md, "Proof for one chain").
-- ---------------------------------------------------------------------------
CREATE FUNCTION wallet_ops.chain_proof(tbl pg_catalog.regclass,
                                       chain_key pg_catalog.text,
                                       digest pg_catalog.jsonb)
RETURNS pg_catalog.jsonb
LANGUAGE C CALLED ON NULL INPUT STABLE
AS 'MODULE_PATHNAME', 'wallet_ops_chain_proof';
COMMENT ON FUNCTION wallet_ops.chain_proof(pg_catalog.regclass, pg_catalog.text, pg_catalog.jsonb) IS
  'The proof that a digest attests one chain: its leaf, the Merkle path to the digest''s root and the digest''s signed fields, checked offline by wallet_ops_verify prove';

-- ---------------------------------------------------------------------------
-- Digests taken and shipped by the worker (docs/compliance.md): every
-- `every`, the worker takes a table's digest, writes it under the data
-- directory (pg_wallet_ops/digests/) and ships it with
-- wallet_ops.digest_archive_command, removing it only once the command
-- returned 0 (src/digest_ship.c).
-- ---------------------------------------------------------------------------
CREATE TABLE wallet_ops.digest_schedule (
    relid         pg_catalog.regclass PRIMARY KEY
                  REFERENCES wallet_ops.hash_chains ON DELETE CASCADE,
    every         pg_catalog.interval NOT NULL,
    scheduled_at  pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    scheduled_by  pg_catalog.name NOT NULL DEFAULT CURRENT_USER,
    last_taken    pg_catalog.timestamptz,
    last_shipped  pg_catalog.timestamptz,
    last_file     pg_catalog.text,
    failures      pg_catalog.int8 NOT NULL DEFAULT 0,
    last_error    pg_catalog.text,
    next_attempt  pg_catalog.timestamptz
);
COMMENT ON TABLE wallet_ops.digest_schedule IS
  'Hash-chained tables whose digest the worker takes every `every` and ships with wallet_ops.digest_archive_command; failures counts the failed attempts in a row';
SELECT pg_catalog.pg_extension_config_dump('wallet_ops.digest_schedule', '');
REVOKE ALL ON wallet_ops.digest_schedule FROM PUBLIC;
GRANT SELECT ON wallet_ops.digest_schedule TO pg_monitor;

CREATE FUNCTION wallet_ops.schedule_digest(tbl pg_catalog.regclass, every pg_catalog.interval)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tbl IS NULL OR every IS NULL THEN
        RAISE EXCEPTION 'table and interval must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = tbl) THEN
        RAISE EXCEPTION 'relation with OID % does not exist', tbl::pg_catalog.oid
            USING ERRCODE = 'undefined_table',
                  HINT = 'Pass the table by name, for example ''schema.table''.';
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
    IF every < pg_catalog.make_interval(secs => COALESCE(
           (SELECT s.setting::pg_catalog.float8 FROM pg_catalog.pg_settings s
             WHERE s.name = 'wallet_ops.naptime'), 60))
       OR every > interval '100 years' THEN
        RAISE EXCEPTION 'digest interval % is out of range', wallet_ops._interval_words(every)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass an interval of at least wallet_ops.naptime (the worker looks once a tick) and at most 100 years.';
    END IF;
    INSERT INTO wallet_ops.digest_schedule AS s (relid, every) VALUES (tbl, every)
    ON CONFLICT (relid) DO UPDATE SET every = EXCLUDED.every,
                                      scheduled_at = pg_catalog.now(), scheduled_by = CURRENT_USER;
    PERFORM wallet_ops._worker_wake();
END
$$;
COMMENT ON FUNCTION wallet_ops.schedule_digest(pg_catalog.regclass, pg_catalog.interval) IS
  'The worker takes the digest of a hash-chained table every `every` and ships it with wallet_ops.digest_archive_command (table owner)';

CREATE FUNCTION wallet_ops.unschedule_digest(tbl pg_catalog.regclass)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tbl IS NULL THEN
        RAISE EXCEPTION 'table must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = tbl) THEN
        RAISE EXCEPTION 'relation with OID % does not exist', tbl::pg_catalog.oid
            USING ERRCODE = 'undefined_table',
                  HINT = 'Pass the table by name, for example ''schema.table''.';
    END IF;
    IF NOT pg_catalog.pg_has_role(SESSION_USER,
                                  (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = tbl), 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', tbl USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM wallet_ops.digest_schedule s WHERE s.relid = tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the digest of table % is not scheduled', tbl
            USING ERRCODE = 'undefined_object',
                  HINT = 'wallet_ops.digest_schedule lists the scheduled digests.';
    END IF;
END
$$;
COMMENT ON FUNCTION wallet_ops.unschedule_digest(pg_catalog.regclass) IS
  'Stop taking and shipping the digest of a table; digests already written stay in pg_wallet_ops/digests (table owner)';

-- The digest check of health() as of `at`: warning when the last shipped
-- digest is older than twice its interval, critical at four times.
CREATE FUNCTION wallet_ops._digest_checks(at timestamptz)
RETURNS TABLE (check_name text, object text, status text, detail text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'digest', d.relid::text,
           CASE WHEN d.age IS NULL OR d.age > 4 * d.every THEN 'critical'
                WHEN d.age > 2 * d.every THEN 'warning'
                ELSE 'ok' END,
           CASE WHEN d.last_shipped IS NULL
                THEN 'no digest shipped yet (scheduled ' || wallet_ops._interval_words(d.age) || ' ago, every '
                     || wallet_ops._interval_words(d.every) || ')'
                ELSE 'last digest shipped ' || wallet_ops._interval_words(d.age) || ' ago (every '
                     || wallet_ops._interval_words(d.every) || ')' END
           || CASE WHEN COALESCE(pg_catalog.current_setting('wallet_ops.digest_archive_command', true), '') = ''
                   THEN '; wallet_ops.digest_archive_command is empty: digests wait in pg_wallet_ops/digests; set it and reload'
                   WHEN d.failures > 0
                   THEN '; ' || d.failures || ' failed attempts in a row, the last: ' || COALESCE(d.last_error, '')
                        || '; see wallet_ops.job_log'
                   ELSE '' END
      FROM (SELECT s.*, wallet_ops._time_minus(at, COALESCE(s.last_shipped, s.scheduled_at)) AS age
              FROM wallet_ops.digest_schedule s) d
$$;
REVOKE ALL ON FUNCTION wallet_ops._digest_checks(timestamptz) FROM PUBLIC;

CREATE FUNCTION wallet_ops._digest_metric_samples(at timestamptz)
RETURNS TABLE (family_order int, metric text, help text, metric_type text,
               label_names text[], label_values text[], value float8)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 45, 'wallet_ops_digest_age_seconds', 'Seconds since the last digest of a table was shipped (since it was scheduled when none was).', 'gauge',
           ARRAY['table'], ARRAY[s.relid::text],
           GREATEST(COALESCE(pg_catalog.date_part('epoch', wallet_ops._time_minus(at, COALESCE(s.last_shipped, s.scheduled_at))), 0), 0)
      FROM wallet_ops.digest_schedule s
    UNION ALL
    SELECT 46, 'wallet_ops_digest_ship_failures', 'Failed attempts in a row to ship a digest of a table (0 once one succeeds).', 'gauge',
           ARRAY['table'], ARRAY[s.relid::text], s.failures::float8
      FROM wallet_ops.digest_schedule s
$$;
REVOKE ALL ON FUNCTION wallet_ops._digest_metric_samples(timestamptz) FROM PUBLIC;

-- Citus (docs/citus.md): after shards of a chained distributed table were
-- moved or split, the heads they left on the node they came from
CREATE FUNCTION wallet_ops.recover_shard_heads(tbl pg_catalog.regclass)
RETURNS pg_catalog.int8
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_recover_shard_heads';
COMMENT ON FUNCTION wallet_ops.recover_shard_heads(pg_catalog.regclass) IS
  'Citus: on every shard of a hash-chained distributed table, record the last row of each chain without a recorded head as its head (after a shard move or split); returns how many';
