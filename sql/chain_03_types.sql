-- Hash chains: every supported type (and arrays of them) is hashed from its
-- stored value, never from a text that session settings change; other
-- types are refused.  The row hashes printed here are the test vectors of
-- docs/hash-format.md.
SET search_path = ledger_t, public;
CREATE DOMAIN positive_amount AS numeric CHECK (VALUE > 0);
CREATE TABLE stage (
    b     boolean, i2 smallint, i4 integer, i8 bigint,
    n     numeric, dm positive_amount, r real, d double precision,
    t     text, vc varchar(20), c char(5), nm name,
    j     json, jb jsonb, ba bytea, u uuid,
    tz    timestamptz, ts timestamp, dt date, ip inet, cn cidr, iv interval,
    ai    int[], at text[], au uuid[], atz timestamptz[], ajb jsonb[], an numeric[]
);
CREATE TABLE typed (k text NOT NULL, LIKE stage);
SELECT wallet_ops.enable_hash_chain('typed', '{k}');
SELECT hashed_columns FROM wallet_ops.hash_chains WHERE relid = 'typed'::regclass;

-- put(): the same values, entered under the session's settings
CREATE FUNCTION put() RETURNS void LANGUAGE sql AS $$
DELETE FROM ledger_t.stage;
INSERT INTO ledger_t.stage VALUES (
    true, -2, 40000, 9000000000,
    12.50, 0.001, 1.5, 0.1,
    U&'caf\00E9 \00FCber', 'Zoë', 'ab', 'nom',
    '{"b": 1,  "a": [1, 2.0]}', '{"b": 1, "a": [1, 2.0], "ü": "ß"}', '\xdeadbeef',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '2026-03-01 12:00:00.123456+00', '2026-03-01 12:00:00', '2026-03-01',
    '192.168.1.5/24', '10.0.0.0/8', make_interval(0, 1, 0, 2, 3, 4, 5.5),
    ARRAY[1, NULL, 3], '[0:1]={x,"y z"}', ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid],
    ARRAY['infinity'::timestamptz, '2026-01-01 00:00+00'], ARRAY['{"k": null}'::jsonb], '{{1.0,2},{3,NaN}}'
) $$;
-- vector(name): put() the values into a new keyless chained table and
-- return the first row's hash
CREATE FUNCTION vector(name text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
  PERFORM ledger_t.put();
  EXECUTE format('CREATE TABLE ledger_t.%I (LIKE ledger_t.stage)', name);
  PERFORM wallet_ops.enable_hash_chain(format('ledger_t.%I', name)::regclass);
  EXECUTE format('INSERT INTO ledger_t.%I SELECT * FROM ledger_t.stage', name);
  EXECUTE format('SELECT encode(row_hash, ''hex'') FROM ledger_t.%I', name) INTO h;
  RETURN h;
END $$;
SELECT vector('v_default') AS vector_1;
BEGIN;
SET LOCAL TimeZone = 'Pacific/Chatham';
SET LOCAL DateStyle = 'SQL, DMY';
SET LOCAL IntervalStyle = 'sql_standard';
SET LOCAL extra_float_digits = -10;
SET LOCAL bytea_output = 'escape';
SELECT vector('v_settings') AS vector_1_other_settings;
COMMIT;
BEGIN;
SET LOCAL client_encoding = 'LATIN1';
SELECT vector('v_latin1') AS vector_1_latin1_client;
COMMIT;
BEGIN;
SET LOCAL search_path = '';
SELECT ledger_t.vector('v_no_path') AS vector_1_empty_search_path;
COMMIT;
-- a role with no right on wallet_ops.chain_heads can insert: the trigger
-- writes the heads as the extension owner
CREATE ROLE ledger_other_role;
GRANT ALL ON SCHEMA ledger_t TO ledger_other_role;
GRANT ALL ON ALL TABLES IN SCHEMA ledger_t TO ledger_other_role;
ALTER TABLE v_default OWNER TO ledger_other_role;
SET ROLE ledger_other_role;
INSERT INTO v_default SELECT * FROM stage;
RESET ROLE;
SELECT chain_seq, encode(row_hash, 'hex') AS vector_2 FROM v_default ORDER BY chain_seq;
SELECT * FROM wallet_ops.verify_chain('v_default');

-- the chained rows of typed verify whatever the settings of the verifier
INSERT INTO typed (k, t) VALUES ('y', 'plain');
INSERT INTO typed SELECT 'y', * FROM stage;
INSERT INTO typed SELECT 'z', * FROM stage;
BEGIN;
SET LOCAL TimeZone = 'America/St_Johns';
SET LOCAL DateStyle = 'German';
SET LOCAL IntervalStyle = 'iso_8601';
SET LOCAL extra_float_digits = 3;
SET LOCAL client_encoding = 'LATIN1';
SET LOCAL search_path = '';
SELECT * FROM wallet_ops.verify_chain('ledger_t.typed');
COMMIT;
SELECT k, chain_seq, encode(row_hash, 'hex') AS row_hash FROM typed WHERE k IN ('y', 'z') ORDER BY k, chain_seq;
-- and a change of any one column is seen
-- a superuser lifts the append-only protection to tamper (WARNING silenced)
SET client_min_messages = error;
SELECT wallet_ops.release_append_only('typed');
RESET client_min_messages;
SET session_replication_role = replica;
UPDATE typed SET atz[1] = '-infinity' WHERE k = 'z';
UPDATE typed SET iv = iv + interval '1 microsecond' WHERE k = 'y' AND chain_seq = 2;
RESET session_replication_role;
SELECT chain_key, chain_seq, problem FROM wallet_ops.verify_chain('typed');

-- widening a type keeps the hash: integer and bigint, real and double,
-- text and varchar hash alike (same tag and canonical bytes)
CREATE TABLE narrow (a int, f real, s text);
CREATE TABLE wide (a bigint, f double precision, s varchar);
SELECT wallet_ops.enable_hash_chain('narrow'), wallet_ops.enable_hash_chain('wide');
INSERT INTO narrow VALUES (7, 0.5, 'x');
INSERT INTO wide VALUES (7, 0.5, 'x');
SELECT (SELECT row_hash FROM narrow) = (SELECT row_hash FROM wide) AS same_hash;
-- NaN is canonical: every NaN hashes alike
CREATE TABLE nan1 (f double precision);
CREATE TABLE nan2 (f double precision);
SELECT wallet_ops.enable_hash_chain('nan1'), wallet_ops.enable_hash_chain('nan2');
INSERT INTO nan1 VALUES ('NaN');
INSERT INTO nan2 VALUES (-('NaN'::float8));
SELECT (SELECT row_hash FROM nan1) = (SELECT row_hash FROM nan2) AS same_nan_hash;
-- NULL and empty differ
CREATE TABLE e1 (s text, a int[]);
SELECT wallet_ops.enable_hash_chain('e1');
INSERT INTO e1 VALUES (NULL, NULL), ('', '{}');
SELECT count(DISTINCT substr(row_hash, 1, 32)) FROM e1;

-- types without a canonical form are refused, naming column and type
CREATE TYPE mood AS ENUM ('ok');
CREATE TYPE pair AS (a int, b int);
CREATE DOMAIN money_d AS money;
SELECT typ, err(format('CREATE TABLE ledger_t.bad (v %s); SELECT wallet_ops.enable_hash_chain(''ledger_t.bad'')', typ))
  FROM unnest(ARRAY['money', 'xml', 'time', 'timetz', 'ledger_t.mood', 'ledger_t.pair',
                    'int4range', 'point', 'bit(3)', 'tsvector', '"char"', 'oid', 'ledger_t.money_d',
                    'money[]', 'int4range[]']) typ;
SELECT count(*) AS leftovers FROM pg_class WHERE relname = 'bad';

-- the test vectors of docs/hash-format.md
CREATE TABLE tv (acct int, amount numeric, memo text);
SELECT wallet_ops.enable_hash_chain('tv', '{acct}');
INSERT INTO tv VALUES (1, 12.50, 'café'), (1, NULL, '');
SELECT chain_seq, encode(prev_hash, 'hex') AS prev_hash, encode(row_hash, 'hex') AS row_hash FROM tv ORDER BY 1;
SELECT wallet_ops.chain_digest('tv')->>'merkle_root' AS one_chain_root;
INSERT INTO tv VALUES (2, 1, 'x'), (3, 2, 'y');
SELECT wallet_ops.chain_digest('tv')->>'merkle_root' AS three_chain_root;
CREATE TABLE tv0 (v int);
SELECT wallet_ops.enable_hash_chain('tv0');
SELECT wallet_ops.chain_digest('tv0')->>'merkle_root' AS empty_root;

-- jsonb is hashed as its text output (jsonb::text), byte for byte:
-- recompute row_hash in SQL from the documented format for awkward values
CREATE TABLE js (k int NOT NULL, jb jsonb);
SELECT wallet_ops.enable_hash_chain('js', '{k}', '{jb}');
INSERT INTO js (k, jb) VALUES
  (1, '{}'), (2, '[]'), (3, '"raw"'), (4, '12.50'), (5, 'true'), (6, 'null'), (7, 'false'),
  (8, '{"a": {"b": [1, {"c": []}, {}]}, "": "", "x\"y": "q\"uo\\te"}'),
  (9, to_jsonb(text E'ctl \b\f\n\r\t \u0001\u001f \u007f end')),
  (10, jsonb_build_object(text E'k\u0002\t', text E'\u0010', text 'ü€😀', text '/slash')),
  (11, '[1e3, -0.000, 1.0e-5, 123456789012345678901234567890.123456789, [[[]]], [{}], null]'),
  (12, jsonb_build_array(repeat(text 'é"\', 400), repeat(text 'x', 3000))),
  (13, NULL),
  -- an escape at every offset of an 8-byte word, and none
  (14, (SELECT jsonb_agg(repeat('a', i) || E'\n' || repeat('b', 20 - i)) FROM generate_series(0, 20) i)),
  (15, (SELECT jsonb_agg(repeat('q', i) || '"' || repeat('r', i) || '\') FROM generate_series(0, 17) i)),
  (16, (SELECT jsonb_agg(repeat('w', i)) FROM generate_series(0, 17) i)),
  -- more than 32 children (entries holding offsets) and every kind of value
  (17, (SELECT jsonb_object_agg('key' || i, CASE i % 4 WHEN 0 THEN to_jsonb(i * 1.5) WHEN 1 THEN to_jsonb('s' || i)
                                                      WHEN 2 THEN jsonb_build_object('n', i, 'e', '{}'::jsonb)
                                                      ELSE jsonb_build_array(i, true, null, false) END)
          FROM generate_series(1, 70) i)),
  (18, (SELECT jsonb_agg(CASE i % 3 WHEN 0 THEN to_jsonb(i / 7.0) WHEN 1 THEN to_jsonb(repeat('z', i)) ELSE '[{}]'::jsonb END)
          FROM generate_series(1, 100) i));
SELECT k, row_hash = sha256('\x00000011'::bytea || convert_to('wallet_ops/row/v1', 'UTF8')
         || int8send(chain_seq) || prev_hash || '\x00000001'::bytea
         || CASE WHEN jb IS NULL THEN '\x4a00'::bytea
                 ELSE '\x4a01'::bytea || int4send(octet_length(convert_to(jb::text, 'UTF8')))
                      || convert_to(jb::text, 'UTF8') END) AS as_documented
  FROM js ORDER BY k;
SELECT count(*) AS problems FROM wallet_ops.verify_chain('js');
