
-- ---------------------------------------------------------------------------
-- The worker (contract section 5).  The launcher starts a worker for a
-- database when its tick is due; what a database has to maintain tells it
-- when that is (src/worker.c).
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
CREATE FUNCTION wallet_ops._worker_notify()
RETURNS void
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_worker_notify';
REVOKE ALL ON FUNCTION wallet_ops._worker_notify() FROM PUBLIC;

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

SELECT wallet_ops._worker_notify();
