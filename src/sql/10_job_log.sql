
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
