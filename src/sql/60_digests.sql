
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
