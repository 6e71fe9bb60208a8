-- Hardening, family "dependencies of a protected column": every way a type,
-- domain, function, sequence or collation a protected table's columns
-- depend on could change stored values, and every way unverified rows could
-- join a hash chain.  Run as a non-superuser who owns the table, its schema
-- and its types.  Each attempt is followed by a check that the rows read
-- exactly as before (the md5 of their text).
SET TimeZone = 'UTC';
CREATE ROLE regress_ht_owner;
CREATE SCHEMA ht AUTHORIZATION regress_ht_owner;

SET ROLE regress_ht_owner;
CREATE TYPE ht.mood AS ENUM ('calm', 'angry');
CREATE TYPE ht.inner_t AS (m ht.mood, note text);
CREATE TYPE ht.comp AS (a int, b text);
CREATE TYPE ht.outer_t AS (i ht.inner_t, n int);
CREATE DOMAIN ht.amount AS int DEFAULT 1 CHECK (VALUE >= 0);
CREATE TYPE ht.trow AS (id int, what text);
CREATE SEQUENCE ht.seq;
CREATE FUNCTION ht.twice(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1 * 2';
CREATE TABLE ht.audit (
    id      int DEFAULT nextval('ht.seq'),
    c       ht.comp,
    cs      ht.comp[],
    o       ht.outer_t,
    amt     ht.amount,
    label   text COLLATE "C",
    doubled int GENERATED ALWAYS AS (ht.twice(id)) STORED
);
INSERT INTO ht.audit (c, cs, o, amt, label) VALUES
    ('(1,x)', ARRAY['(2,y)'::ht.comp], '("(calm,n1)",1)', 5, 'a'),
    ('(3,z)', NULL, '("(angry,n2)",2)', 7, 'b');
CREATE TABLE ht.typed OF ht.trow;
INSERT INTO ht.typed VALUES (1, 'one'), (2, 'two');
SELECT wallet_ops.enforce_append_only('ht.audit');
SELECT wallet_ops.enforce_append_only('ht.typed');
CREATE VIEW ht.fingerprint AS
    SELECT (SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM ht.audit t) AS audit,
           (SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM ht.typed t) AS typed;
CREATE TABLE ht.before AS SELECT * FROM ht.fingerprint;
CREATE FUNCTION ht.unchanged() RETURNS boolean LANGUAGE sql
    AS 'SELECT f.audit = b.audit AND f.typed = b.typed FROM ht.fingerprint f, ht.before b';

-- composite types: refused where stored values would change
SELECT sqlstate_of($$ALTER TYPE ht.comp DROP ATTRIBUTE b$$), ht.unchanged();
SELECT sqlstate_of($$ALTER TYPE ht.comp DROP ATTRIBUTE b CASCADE$$), ht.unchanged();
SELECT sqlstate_of($$ALTER TYPE ht.comp ALTER ATTRIBUTE a TYPE text$$), ht.unchanged();
SELECT sqlstate_of($$ALTER TYPE ht.inner_t DROP ATTRIBUTE note$$), ht.unchanged();
SELECT sqlstate_of($$ALTER TYPE ht.trow DROP ATTRIBUTE what CASCADE$$), ht.unchanged();
SELECT sqlstate_of($$ALTER TYPE ht.trow ALTER ATTRIBUTE id TYPE text CASCADE$$), ht.unchanged();
-- renaming an attribute changes no stored value (the text form has no names)
SELECT sqlstate_of($$ALTER TYPE ht.comp RENAME ATTRIBUTE b TO bb$$), ht.unchanged();
-- enums: RENAME VALUE changes what rows say, also inside a composite
SELECT sqlstate_of($$ALTER TYPE ht.mood RENAME VALUE 'calm' TO 'furious'$$), ht.unchanged();
SELECT sqlstate_of($$ALTER TYPE ht.mood ADD VALUE 'bored'$$), ht.unchanged();

-- domains: no ALTER DOMAIN rewrites stored values, so all are allowed
-- (defaults apply to new rows; a constraint is checked against the rows,
-- and refused by PostgreSQL itself when one violates it)
SELECT sqlstate_of($$ALTER DOMAIN ht.amount DROP DEFAULT$$), ht.unchanged();
SELECT sqlstate_of($$ALTER DOMAIN ht.amount SET DEFAULT 2$$), ht.unchanged();
SELECT sqlstate_of($$ALTER DOMAIN ht.amount ADD CONSTRAINT small CHECK (VALUE < 100)$$), ht.unchanged();
SELECT sqlstate_of($$ALTER DOMAIN ht.amount ADD CONSTRAINT big CHECK (VALUE > 6)$$), ht.unchanged();
SELECT sqlstate_of($$ALTER DOMAIN ht.amount DROP CONSTRAINT small$$), ht.unchanged();
SELECT sqlstate_of($$ALTER DOMAIN ht.amount SET NOT NULL$$), ht.unchanged();
-- dropping what a column needs: refused (sql_drop), see append_doors 22
SELECT sqlstate_of($$DROP DOMAIN ht.amount CASCADE$$), ht.unchanged();
SELECT sqlstate_of($$DROP TYPE ht.comp CASCADE$$), ht.unchanged();

-- functions, sequences, collations: stored values are not recomputed
SELECT sqlstate_of($$CREATE OR REPLACE FUNCTION ht.twice(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1 * 3'$$), ht.unchanged();
SELECT sqlstate_of($$ALTER SEQUENCE ht.seq RESTART WITH 100$$), ht.unchanged();
SELECT sqlstate_of($$DROP FUNCTION ht.twice(int) CASCADE$$), ht.unchanged();
SELECT sqlstate_of($$DROP SEQUENCE ht.seq CASCADE$$), ht.unchanged();

-- adding an attribute: existing values read it as NULL; nothing stored changes
SELECT sqlstate_of($$ALTER TYPE ht.comp ADD ATTRIBUTE extra int$$);
SELECT c, cs FROM ht.audit ORDER BY id;

-- hash chains: a table holding rows cannot join one
CREATE TABLE ht.ledger (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE ht.ledger_2026 PARTITION OF ht.ledger FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO ht.ledger VALUES (1, '2026-01-01');
SELECT wallet_ops.enable_hash_chain('ht.ledger');
CREATE TABLE ht.forged (id int NOT NULL, at date NOT NULL, chain_seq bigint, prev_hash bytea, row_hash bytea);
INSERT INTO ht.forged SELECT 2, '2027-01-01', 2, row_hash, row_hash FROM ht.ledger;
SELECT sqlstate_of($$ALTER TABLE ht.ledger ATTACH PARTITION ht.forged FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')$$);
CREATE TABLE ht.forged_tree (id int NOT NULL, at date NOT NULL, chain_seq bigint, prev_hash bytea, row_hash bytea)
    PARTITION BY RANGE (at);
CREATE TABLE ht.forged_leaf PARTITION OF ht.forged_tree FOR VALUES FROM ('2028-01-01') TO ('2029-01-01');
INSERT INTO ht.forged_leaf VALUES (3, '2028-01-01', 3, '\x00', '\x00');
SELECT sqlstate_of($$ALTER TABLE ht.ledger ATTACH PARTITION ht.forged_tree FOR VALUES FROM ('2028-01-01') TO ('2029-01-01')$$);
SELECT count(*) AS ledger_rows FROM ht.ledger;
-- an empty table may join; its rows then go through the chain's trigger
CREATE TABLE ht.ledger_2027 (id int NOT NULL, at date NOT NULL, chain_seq bigint, prev_hash bytea, row_hash bytea);
SELECT sqlstate_of($$ALTER TABLE ht.ledger ATTACH PARTITION ht.ledger_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')$$);
INSERT INTO ht.ledger VALUES (2, '2027-06-01');
SELECT id, chain_seq FROM ht.ledger ORDER BY id;
SELECT * FROM wallet_ops.verify_chain('ht.ledger');
RESET ROLE;

SELECT wallet_ops.release_append_only('ht.audit');
SELECT wallet_ops.release_append_only('ht.typed');
SELECT wallet_ops.release_append_only('ht.ledger');
DROP SCHEMA ht CASCADE;
DROP ROLE regress_ht_owner;
