
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
