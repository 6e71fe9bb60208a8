-- Hash chains: enabling a chain on a seed-like partitioned table, sealing
-- the rows already present, and every way enable_hash_chain refuses bad
-- input without leaving anything half done.
SET client_min_messages = notice;
CREATE SCHEMA ledger_t;
SET search_path = ledger_t, public;

-- err(sql): the SQLSTATE and message of a failing statement
CREATE FUNCTION err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- chain_cols(tbl): which of the chain columns a table has
CREATE FUNCTION chain_cols(tbl regclass) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(attname, ',' ORDER BY attnum), '(none)')
    FROM pg_attribute
   WHERE attrelid = tbl AND NOT attisdropped
     AND attname IN ('chain_seq', 'prev_hash', 'row_hash') $$;

-- the seed's entity_history, by month, with non-ASCII text in jsonb
CREATE TABLE entity_history (
    history_id  bigint GENERATED ALWAYS AS IDENTITY,
    entity_id   uuid NOT NULL,
    entity_type text NOT NULL,
    change_type text NOT NULL,
    payload     jsonb NOT NULL,
    changed_by  text NOT NULL,
    changed_at  timestamptz NOT NULL,
    PRIMARY KEY (history_id, changed_at)
) PARTITION BY RANGE (changed_at);
CREATE TABLE entity_history_2026_01 PARTITION OF entity_history
  FOR VALUES FROM ('2026-01-01 00:00+00') TO ('2026-02-01 00:00+00');
CREATE TABLE entity_history_2026_02 PARTITION OF entity_history
  FOR VALUES FROM ('2026-02-01 00:00+00') TO ('2026-03-01 00:00+00');

-- rows present before the chain is enabled
INSERT INTO entity_history (entity_id, entity_type, change_type, payload, changed_by, changed_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(1 + n % 4), 12, '0'))::uuid,
       'wallet', CASE WHEN n <= 4 THEN 'create' ELSE 'update' END,
       jsonb_build_object('balance', n * 10, 'owner', 'Zoë Ørsted ' || n, 'note', '¥€'),
       'ingest', timestamptz '2026-01-01 00:00+00' + n * interval '5 days'
  FROM generate_series(1, 10) n;

-- ---- refusals: each leaves the table untouched ----
CREATE TABLE plain (id int, amount money, label text);
CREATE VIEW plain_v AS SELECT * FROM plain;
SELECT err($$SELECT wallet_ops.enable_hash_chain('plain')$$);              -- money
SELECT chain_cols('plain');
SELECT err($$SELECT wallet_ops.enable_hash_chain('plain', '{id}', '{id,nope}')$$);
SELECT err($$SELECT wallet_ops.enable_hash_chain('plain', '{nope}', '{id}')$$);
SELECT err($$SELECT wallet_ops.enable_hash_chain('plain', '{id}', '{id,label,id}')$$);
SELECT err($$SELECT wallet_ops.enable_hash_chain('plain', '{id}', '{id,chain_seq}')$$);
SELECT err($$SELECT wallet_ops.enable_hash_chain('plain', '{id}', ARRAY['id', NULL]::name[])$$);
SELECT err($$SELECT wallet_ops.enable_hash_chain('plain', '{id}', '{}')$$);
SELECT err($$SELECT wallet_ops.enable_hash_chain('plain_v')$$);
SELECT chain_cols('plain');
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'plain'::regclass;
-- a key type whose text depends on settings
CREATE TABLE keyed (at timestamptz, v int);
SELECT err($$SELECT wallet_ops.enable_hash_chain('keyed', '{at}')$$);
-- an existing chain column of the wrong type
CREATE TABLE wrongcol (v int, chain_seq int);
SELECT err($$SELECT wallet_ops.enable_hash_chain('wrongcol', '{}', '{v}')$$);
SELECT chain_cols('wrongcol');
-- a generated column cannot be hashed (it is computed after the trigger)
CREATE TABLE gen (v int, w int GENERATED ALWAYS AS (v * 2) STORED);
SELECT err($$SELECT wallet_ops.enable_hash_chain('gen', '{}', '{v,w}')$$);
-- not the owner
CREATE ROLE ledger_stranger;
GRANT USAGE ON SCHEMA ledger_t TO ledger_stranger;
GRANT ALL ON plain TO ledger_stranger;
SET ROLE ledger_stranger;
SELECT err($$SELECT wallet_ops.enable_hash_chain('ledger_t.plain', '{id}', '{id,label}')$$);
RESET ROLE;
SELECT chain_cols('plain');
SELECT count(*) AS configured FROM wallet_ops.hash_chains;

-- ---- enable on the partitioned table ----
SELECT wallet_ops.enable_hash_chain('entity_history', '{entity_id}');
SELECT relid, chain_key, hashed_columns, format_version FROM wallet_ops.hash_chains;
SELECT chain_cols('entity_history'), chain_cols('entity_history_2026_01');
-- the lookup index, a partitioned index present on every partition
SELECT c.relname, pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
 WHERE pg_get_indexdef(i.indexrelid) LIKE '%(entity_id, chain_seq)%'
 ORDER BY 1;
-- the trigger, cloned to every partition
SELECT tgrelid::regclass, tgname, tgenabled FROM pg_trigger
 WHERE tgname = 'zzz_wallet_ops_hash_chain' ORDER BY 1;
-- existing rows were sealed per entity in the order of the hashed columns
-- (history_id first), so chain_seq follows history_id
SELECT entity_id, array_agg(history_id ORDER BY chain_seq) AS by_seq,
       array_agg(chain_seq ORDER BY chain_seq) AS seqs
  FROM entity_history GROUP BY entity_id ORDER BY 1;
SELECT chain_key, last_seq FROM wallet_ops.chain_heads ORDER BY 1;
SELECT * FROM wallet_ops.verify_chain('entity_history');
-- enabling twice, or on a partition of a chained table
SELECT err($$SELECT wallet_ops.enable_hash_chain('entity_history', '{entity_id}')$$);
SELECT err($$SELECT wallet_ops.enable_hash_chain('entity_history_2026_01', '{entity_id}')$$);

-- ---- inserting ----
-- supplied chain columns are overwritten
INSERT INTO entity_history (entity_id, entity_type, change_type, payload, changed_by, changed_at,
                            chain_seq, prev_hash, row_hash)
VALUES ('00000000-0000-4000-8000-000000000001', 'wallet', 'update',
        '{"balance": 1, "owner": "Zoë"}', 'ingest', '2026-02-20 10:00+00', 99, '\x00', '\x00');
INSERT INTO entity_history (entity_id, entity_type, change_type, payload, changed_by, changed_at)
SELECT '00000000-0000-4000-8000-000000000005', 'wallet', 'create', jsonb_build_object('i', i),
       'ingest', timestamptz '2026-02-01 00:00+00' + i * interval '1 hour'
  FROM generate_series(1, 5) i;
SELECT entity_id, chain_seq, length(prev_hash) AS prev_len, length(row_hash) AS hash_len
  FROM entity_history
 WHERE changed_at >= '2026-02-01 00:00+00' ORDER BY entity_id, chain_seq;
-- each row's prev_hash is the row_hash before it
SELECT count(*) AS links_ok
  FROM entity_history a JOIN entity_history b
    ON a.entity_id = b.entity_id AND b.chain_seq = a.chain_seq + 1
 WHERE b.prev_hash = a.row_hash;
SELECT count(*) - count(DISTINCT entity_id) AS links_expected FROM entity_history;
SELECT h.chain_key, h.last_seq, h.last_hash = e.row_hash AS head_is_last_row
  FROM wallet_ops.chain_heads h
  JOIN entity_history e ON e.entity_id::text = h.chain_key AND e.chain_seq = h.last_seq
 ORDER BY 1;

-- a partition created later gets the trigger and the index too
CREATE TABLE entity_history_2026_03 PARTITION OF entity_history
  FOR VALUES FROM ('2026-03-01 00:00+00') TO ('2026-04-01 00:00+00');
-- and one attached with another column order and a dropped column
CREATE TABLE eh_april (row_hash bytea, dropme int, prev_hash bytea, chain_seq bigint,
                       changed_at timestamptz NOT NULL, changed_by text NOT NULL,
                       payload jsonb NOT NULL, change_type text NOT NULL,
                       entity_type text NOT NULL, entity_id uuid NOT NULL,
                       history_id bigint NOT NULL);
ALTER TABLE eh_april DROP COLUMN dropme;
ALTER TABLE entity_history ATTACH PARTITION eh_april
  FOR VALUES FROM ('2026-04-01 00:00+00') TO ('2026-05-01 00:00+00');
SELECT tgrelid::regclass FROM pg_trigger
 WHERE tgname = 'zzz_wallet_ops_hash_chain' AND tgrelid IN ('entity_history_2026_03'::regclass, 'eh_april'::regclass)
 ORDER BY 1;
INSERT INTO entity_history (entity_id, entity_type, change_type, payload, changed_by, changed_at)
VALUES ('00000000-0000-4000-8000-000000000001', 'wallet', 'update', '{"m": 3}', 'ingest', '2026-03-03 00:00+00'),
       ('00000000-0000-4000-8000-000000000001', 'wallet', 'update', '{"m": 4}', 'ingest', '2026-04-04 00:00+00'),
       ('00000000-0000-4000-8000-000000000001', 'wallet', 'update', '{"m": 3.5}', 'ingest', '2026-03-20 00:00+00');
SELECT tableoid::regclass, chain_seq, payload FROM entity_history
 WHERE entity_id = '00000000-0000-4000-8000-000000000001' AND chain_seq > 3 ORDER BY chain_seq;
SELECT * FROM wallet_ops.verify_chain('entity_history');
SELECT * FROM wallet_ops.verify_chain('entity_history', '00000000-0000-4000-8000-000000000001');

-- a key column cannot be null at insert
CREATE TABLE nk (k text, v int);
SELECT wallet_ops.enable_hash_chain('nk', '{k}');
SELECT err($$INSERT INTO ledger_t.nk VALUES (NULL, 1)$$);
-- several key columns: the chain is named by a JSON array
CREATE TABLE multi (region text, acct int, amount numeric);
SELECT wallet_ops.enable_hash_chain('multi', '{region,acct}');
INSERT INTO multi VALUES ('eu "west"', 7, 1.50), ('eu "west"', 7, 2.25), ('us', 7, 3);
SELECT chain_key, last_seq FROM wallet_ops.chain_heads WHERE relid = 'multi'::regclass ORDER BY 1;
SELECT * FROM wallet_ops.verify_chain('multi', '["eu \"west\"", "7"]');
SELECT err($$SELECT * FROM wallet_ops.verify_chain('ledger_t.multi', 'us')$$);
-- no key column: one chain named ''
CREATE TABLE single (v text);
SELECT wallet_ops.enable_hash_chain('single');
INSERT INTO single VALUES ('a'), ('b');
SELECT chain_key = '' AS unnamed, last_seq FROM wallet_ops.chain_heads WHERE relid = 'single'::regclass;
SELECT * FROM wallet_ops.verify_chain('single');
SELECT * FROM wallet_ops.verify_chain('single', '');

-- the trigger function refuses to be used on its own
CREATE TABLE loose (v int);
CREATE TRIGGER t BEFORE INSERT ON loose FOR EACH ROW EXECUTE FUNCTION wallet_ops._chain_before_insert();
SELECT err($$INSERT INTO ledger_t.loose VALUES (1)$$);
DROP TRIGGER t ON loose;
CREATE TRIGGER t AFTER INSERT ON loose FOR EACH ROW EXECUTE FUNCTION wallet_ops._chain_before_insert();
SELECT err($$INSERT INTO ledger_t.loose VALUES (1)$$);
SELECT err($$SELECT ledger_t.err('x') FROM wallet_ops.verify_chain('ledger_t.loose')$$);
-- progress of running verifications (none now)
SELECT count(*) AS running FROM wallet_ops.chain_verify_progress;

-- chain_index => false: no (key, chain_seq) index; the chain, verification
-- (of the table and of one chain), the commit check that refuses a row
-- dropped by ON CONFLICT DO NOTHING after it was numbered, and the
-- digest work without it, reading the table
CREATE TABLE noidx (k int NOT NULL, v text, at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE noidx_a PARTITION OF noidx FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE noidx_b PARTITION OF noidx FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
SELECT err($$SELECT wallet_ops.enable_hash_chain('ledger_t.noidx', '{k}', chain_index => NULL)$$);
SELECT count(*) AS columns_added_by_refused_call FROM pg_attribute
 WHERE attrelid = 'noidx'::regclass AND attname IN ('chain_seq', 'prev_hash', 'row_hash');
SELECT wallet_ops.enable_hash_chain('noidx', '{k}', chain_index => false);
SELECT count(*) AS indexes FROM pg_index WHERE indrelid IN ('noidx'::regclass, 'noidx_a'::regclass, 'noidx_b'::regclass);
INSERT INTO noidx (k, v, at)
SELECT n % 5, 'v' || n, timestamptz '2026-01-01 00:00+00' + n * interval '12 hours' FROM generate_series(1, 100) n;
ALTER TABLE noidx ADD UNIQUE (v, at);
INSERT INTO noidx (k, v, at) VALUES (1, 'v1', '2026-01-01 12:00+00'), (1, 'new', '2026-02-03 00:00+00')
    ON CONFLICT DO NOTHING;
SELECT k, count(*) AS rows, max(chain_seq) AS last_seq,
       bool_and(chain_seq IS NOT NULL AND row_hash IS NOT NULL) AS all_chained
  FROM noidx GROUP BY k ORDER BY k;
SELECT chain_key, last_seq FROM wallet_ops.chain_heads WHERE relid = 'noidx'::regclass ORDER BY 1;
SELECT count(*) AS problems FROM wallet_ops.verify_chain('noidx');
SELECT count(*) AS problems_of_chain_1 FROM wallet_ops.verify_chain('noidx', '1');
SELECT count(*) AS problems_2_jobs FROM wallet_ops.verify_chain('noidx', NULL, 2);
SELECT count(*) AS digest_problems FROM wallet_ops.verify_against_digest('noidx', wallet_ops.chain_digest('noidx'));
-- a tampered row is still found, at its chain and seq
SET client_min_messages = error;
SELECT wallet_ops.release_append_only('noidx');
RESET client_min_messages;
SET session_replication_role = replica;
UPDATE noidx SET v = 'changed' WHERE k = 3 AND chain_seq = 7;
RESET session_replication_role;
SELECT chain_key, chain_seq, problem FROM wallet_ops.verify_chain('noidx');
SELECT chain_key, chain_seq, problem FROM wallet_ops.verify_chain('noidx', '3');
