-- Managed materialised views over a table whose partitions wallet_ops makes
-- ahead of time: every partition made by maintenance is watched, rows
-- inserted directly into it make the view due, and run_maintenance()
-- refreshes the view after making the partitions.
SET client_min_messages = warning;
CREATE SCHEMA mvp;
CREATE TABLE mvp.ledger (at timestamptz NOT NULL, account int NOT NULL, amount numeric NOT NULL)
    PARTITION BY RANGE (at);
SELECT count(*) AS made FROM wallet_ops._manage_partitions_at('mvp.ledger', 'month', 2, NULL, 'UTC', false,
                                                              '2026-03-15 12:00 UTC');
CREATE MATERIALIZED VIEW mvp.monthly AS
    SELECT date_trunc('month', at, 'UTC') AS month, sum(amount) AS total
      FROM mvp.ledger GROUP BY 1;
CREATE UNIQUE INDEX ON mvp.monthly (month);
SELECT wallet_ops.manage_matview('mvp.monthly');

-- which partitions exist, and which carry the statement watcher
CREATE FUNCTION mvp.watched() RETURNS TABLE (partition text, watched boolean)
LANGUAGE sql AS $$
    SELECT c.oid::regclass::text,
           EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid
                      AND t.tgname = 'wallet_ops_matview_watch' AND t.tgenabled = 'A')
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'mvp.ledger'::regclass ORDER BY 1
$$;
SELECT * FROM mvp.watched();

-- maintenance refreshes the view once (never refreshed under management)
SELECT object, action FROM wallet_ops._run_maintenance_at(NULL, '2026-03-15 12:00 UTC')
 WHERE object = 'mvp.monthly';

-- a month later, maintenance makes a new partition: it is watched at once
SELECT count(*) > 0 AS made_more FROM wallet_ops._run_maintenance_at('mvp.ledger', '2026-04-15 12:00 UTC')
 WHERE action LIKE 'create%';
SELECT * FROM mvp.watched();

-- an insert straight into the new partition makes the view due ...
INSERT INTO mvp.ledger_2026_06 VALUES ('2026-06-02', 1, 42);
SELECT * FROM wallet_ops._matviews_due('mvp.monthly');
-- ... and run_maintenance() refreshes it
SELECT object, action, detail FROM wallet_ops._run_maintenance_at(NULL, '2026-04-15 12:00 UTC')
 WHERE object = 'mvp.monthly';
SELECT to_char(month AT TIME ZONE 'UTC', 'YYYY-MM') AS month, total FROM mvp.monthly ORDER BY 1;
-- rows caught by the default partition count too
INSERT INTO mvp.ledger VALUES ('2027-01-05', 1, 7);
SELECT * FROM wallet_ops._matviews_due('mvp.monthly');
SELECT object, action, detail FROM wallet_ops.run_maintenance('mvp.monthly');
SELECT to_char(month AT TIME ZONE 'UTC', 'YYYY-MM') AS month, total FROM mvp.monthly ORDER BY 1;

SELECT wallet_ops.unmanage_matview('mvp.monthly');
SELECT wallet_ops.unmanage_partitions('mvp.ledger');
DROP SCHEMA mvp CASCADE;
