-- Hardening, family "digests": a value that is not a digest of
-- wallet_ops.chain_digest() is refused by verify_against_digest and
-- verify_since_digest with 22023 and a message naming the field that is
-- wrong; never a generic message, and never a digest_mismatch row for
-- something that is not a digest.  Run as a table owner who is not a
-- superuser.
SET TimeZone = 'UTC';
CREATE ROLE regress_hd_owner;
CREATE SCHEMA hd AUTHORIZATION regress_hd_owner;
SET ROLE regress_hd_owner;
CREATE TABLE hd.ledger (id int, acct text NOT NULL);
INSERT INTO hd.ledger VALUES (1, 'a'), (2, 'b'), (3, 'a');
SELECT wallet_ops.enable_hash_chain('hd.ledger', '{acct}');
CREATE TABLE hd.digest AS SELECT wallet_ops.chain_digest('hd.ledger') AS d;
CREATE TABLE hd.bad (name text, d jsonb);
INSERT INTO hd.bad
SELECT v.name, v.d FROM hd.digest, LATERAL (VALUES
    ('a scalar',              '"wallet_ops.digest.v1"'::jsonb),
    ('an array',              '[]'),
    ('null',                  'null'),
    ('empty object',          '{}'),
    ('format a number',       d || '{"format": 1}'),
    ('format unknown',        d || '{"format": "wallet_ops.digest.v0"}'),
    ('no chains',             d - 'chains'),
    ('chains a scalar',       d || '{"chains": "x"}'),
    ('chains an object',      d || '{"chains": {}}'),
    ('chain a string',        jsonb_set(d, '{chains,0}', '"a"')),
    ('chain_key missing',     d #- '{chains,0,chain_key}'),
    ('chain_key a number',    jsonb_set(d, '{chains,0,chain_key}', '1')),
    ('last_seq missing',      d #- '{chains,1,last_seq}'),
    ('last_seq a string',     jsonb_set(d, '{chains,0,last_seq}', '"2"')),
    ('last_seq fractional',   jsonb_set(d, '{chains,0,last_seq}', '2.5')),
    ('last_seq zero',         jsonb_set(d, '{chains,0,last_seq}', '0')),
    ('last_seq huge',         jsonb_set(d, '{chains,0,last_seq}', '1e400')),
    ('head_hash missing',     d #- '{chains,0,head_hash}'),
    ('head_hash short',       jsonb_set(d, '{chains,0,head_hash}', '"00"')),
    ('head_hash not hex',     jsonb_set(d, '{chains,0,head_hash}', to_jsonb(repeat('z', 64)))),
    ('chain named twice',     jsonb_set(d, '{chains,1,chain_key}', d #> '{chains,0,chain_key}')),
    ('merkle_root not hex',   d || '{"merkle_root": "zz"}'),
    ('chain_count a string',  d || '{"chain_count": "2"}'),
    ('hash_format unknown',   d || '{"hash_format": "x"}')
) AS v(name, d);
RESET ROLE;
SELECT b.name,
       sqlstate_of(format('SELECT * FROM wallet_ops.verify_against_digest(%L, %L)', 'hd.ledger', b.d)) AS against,
       sqlstate_of(format('SELECT * FROM wallet_ops.verify_since_digest(%L, %L)', 'hd.ledger', b.d)) AS since
  FROM hd.bad b ORDER BY b.name COLLATE "C";
-- the intact digest still verifies, with no problem; the table is unchanged
SET ROLE regress_hd_owner;
SELECT * FROM wallet_ops.verify_against_digest('hd.ledger', (SELECT d FROM hd.digest));
SELECT * FROM wallet_ops.verify_since_digest('hd.ledger', (SELECT d FROM hd.digest));
-- a digest that is one, but edited, is still reported as a problem
SELECT chain_key, problem FROM wallet_ops.verify_against_digest('hd.ledger',
    (SELECT d || '{"chain_count": 7}' FROM hd.digest));
SELECT id, acct, chain_seq FROM hd.ledger ORDER BY id;
RESET ROLE;
SELECT wallet_ops.release_append_only('hd.ledger');
DROP SCHEMA hd CASCADE;
DROP ROLE regress_hd_owner;
