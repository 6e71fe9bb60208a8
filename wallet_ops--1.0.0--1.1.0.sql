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
    INSERT INTO wallet_ops.verification_schedule AS s (relid, every, full_every)
    VALUES (tbl, every, full_every)
    ON CONFLICT (relid) DO UPDATE SET every = EXCLUDED.every, full_every = EXCLUDED.full_every,
                                      scheduled_at = pg_catalog.now(), scheduled_by = CURRENT_USER;
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
