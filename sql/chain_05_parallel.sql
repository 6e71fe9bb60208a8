-- Parallel verification (verify_chain's jobs, wallet_ops.verify_jobs)
-- gives the serial result, on an intact table and on one tampered in every
-- way verify_chain reports; the first pass really runs in workers (DEBUG1
-- says how many).
CREATE SCHEMA par;
SET search_path = par, public;
CREATE FUNCTION pg_temp.unprotect(tbl regclass) RETURNS void
LANGUAGE plpgsql SET client_min_messages = error AS $$
BEGIN
    PERFORM wallet_ops.release_append_only(tbl);
END $$;
CREATE TABLE ev (
    id bigint GENERATED ALWAYS AS IDENTITY,
    k  int NOT NULL,
    v  text,
    at timestamptz NOT NULL
) PARTITION BY RANGE (at);
-- six partitions: 2 and 3 jobs take ranges of whole partitions (at least two
-- each), 4 and 5 share each partition block by block
DO $$
BEGIN
    FOR m IN 1..6 LOOP
        EXECUTE format('CREATE TABLE ev_%s PARTITION OF ev FOR VALUES FROM (%L) TO (%L)', m,
                       timestamptz '2026-01-01 00:00+00' + (m - 1) * interval '1 month 16 days',
                       timestamptz '2026-01-01 00:00+00' + m * interval '1 month 16 days');
    END LOOP;
END $$;
SELECT wallet_ops.enable_hash_chain('ev', '{k}');
-- 500 chains, each spread over the six partitions, written in two rounds
INSERT INTO ev (k, v, at)
SELECT n % 500, 'row ' || n, timestamptz '2026-01-01 00:00+00' + (n % 8000) * interval '15 minutes'
  FROM generate_series(1, 15000) n;
INSERT INTO ev (k, v, at)
SELECT n % 500, 'late ' || n, timestamptz '2026-09-30 00:00+00' - (n % 8000) * interval '15 minutes'
  FROM generate_series(1, 15000) n;

SET client_min_messages = debug1;
SELECT count(*) AS problems_serial FROM wallet_ops.verify_chain('ev', NULL, 1);
SELECT count(*) AS problems_parallel FROM wallet_ops.verify_chain('ev', NULL, 4);
SET wallet_ops.verify_jobs = 2;
SELECT count(*) AS problems_by_default FROM wallet_ops.verify_chain('ev');
RESET wallet_ops.verify_jobs;
RESET client_min_messages;

-- tampered: a changed row, a removed middle row, a cut-off tail, swapped
-- chain_seq, a duplicate, a row without hashes, a row with a null key
SELECT pg_temp.unprotect('ev');
SET session_replication_role = replica;
UPDATE ev SET v = 'changed' WHERE k = 2 AND chain_seq = 20;
DELETE FROM ev WHERE k = 3 AND chain_seq = 31;
DELETE FROM ev WHERE k = 4 AND chain_seq > 55;
UPDATE ev SET chain_seq = CASE chain_seq WHEN 6 THEN 7 ELSE 6 END
 WHERE k = 5 AND chain_seq IN (6, 7);
INSERT INTO ev (k, v, at, chain_seq, prev_hash, row_hash)
SELECT k, v, at, chain_seq, prev_hash, row_hash FROM ev WHERE k = 6 AND chain_seq = 12;
INSERT INTO ev (k, v, at) VALUES (7, 'unhashed', '2026-05-05 00:00+00');
ALTER TABLE ev ALTER COLUMN k DROP NOT NULL;
INSERT INTO ev (k, v, at) VALUES (NULL, 'no key', '2026-05-06 00:00+00');
RESET session_replication_role;

CREATE TEMP TABLE serial AS SELECT * FROM wallet_ops.verify_chain('ev', NULL, 1);
SELECT chain_key, chain_seq, problem FROM serial ORDER BY chain_key COLLATE "C", chain_seq, problem;
SELECT jobs,
       (SELECT array_agg(s::text ORDER BY s::text COLLATE "C") FROM serial s)
       = (SELECT array_agg(p::text ORDER BY p::text COLLATE "C") FROM wallet_ops.verify_chain('ev', NULL, jobs) p)
         AS parallel_equals_serial
  FROM generate_series(2, 5) jobs;

-- bad jobs
SELECT * FROM wallet_ops.verify_chain('ev', NULL, 0);
SELECT * FROM wallet_ops.verify_chain('ev', NULL, 65);
SET wallet_ops.verify_jobs = 0;

DROP SCHEMA par CASCADE;
