-- Signed digests: the trusted keys (trust_digest_key, revoke_digest_key,
-- wallet_ops.digest_keys) and the signature member of a digest.  That a
-- signature made outside verifies inside is checked in chain_vectors (a
-- signature made by tools/hash_reference.py) and t/018 (by
-- wallet_ops_verify digest --sign-key).
CREATE EXTENSION IF NOT EXISTS wallet_ops;
SET client_min_messages = notice;
-- RFC 8032's test keys 2 and 3: the key id is the SHA-256 of the 32 bytes
SELECT wallet_ops.trust_digest_key('rfc8032-test-2', E'-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAPUAXw+hDiVqStwqnTRt+vJyYLM8uxJaMwM1V8Sr0Zgw=\n-----END PUBLIC KEY-----\n')
     = encode(sha256('\x3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c'), 'hex') AS key_id_is_sha256;
SELECT name, encode(public_key, 'hex') AS public_key, trusted_by = current_user AS by_me, revoked_at
  FROM wallet_ops.digest_keys WHERE name = 'rfc8032-test-2';
-- refused: the same name, the same key under another name, no key, not
-- Ed25519, a private key, nulls and an empty name
SELECT wallet_ops.trust_digest_key('rfc8032-test-2', E'-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA/FHNjmIYoaONpH7QAjDwWAgW7RO6MwOsXeuRFUiQgCU=\n-----END PUBLIC KEY-----\n');
SELECT wallet_ops.trust_digest_key('again', E'-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAPUAXw+hDiVqStwqnTRt+vJyYLM8uxJaMwM1V8Sr0Zgw=\n-----END PUBLIC KEY-----\n');
SELECT wallet_ops.trust_digest_key('junk', 'not a key');
SELECT wallet_ops.trust_digest_key('p256', E'-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAES0tsSqWQuEYuo4vG+h3LaQt/FPgW\npgn09rDmM0SktzC3+pFwOvl1hlzrNUUiGyjtHvsmC1TR3XsmfTgjnH0QSA==\n-----END PUBLIC KEY-----\n');
SELECT wallet_ops.trust_digest_key('secret', E'-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIEzNCJso/5banbbDRuwRTg9bijGfNaumJNqM9u1PuKb7\n-----END PRIVATE KEY-----\n');
SELECT wallet_ops.trust_digest_key(NULL, E'-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA/FHNjmIYoaONpH7QAjDwWAgW7RO6MwOsXeuRFUiQgCU=\n-----END PUBLIC KEY-----\n');
SELECT wallet_ops.trust_digest_key('', E'-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA/FHNjmIYoaONpH7QAjDwWAgW7RO6MwOsXeuRFUiQgCU=\n-----END PUBLIC KEY-----\n');
SELECT wallet_ops.trust_digest_key('k', NULL);
SELECT count(*) FROM wallet_ops.digest_keys WHERE name <> 'rfc8032-test-2' AND name <> 'rfc8032-test-1';
-- superuser, or granted: EXECUTE is not PUBLIC's; the table is readable
CREATE ROLE signed_auditor;
SET ROLE signed_auditor;
SELECT wallet_ops.trust_digest_key('rfc8032-test-3', E'-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA/FHNjmIYoaONpH7QAjDwWAgW7RO6MwOsXeuRFUiQgCU=\n-----END PUBLIC KEY-----\n');
SELECT wallet_ops.revoke_digest_key('rfc8032-test-2');
SELECT count(*) > 0 AS readable FROM wallet_ops.digest_keys;
RESET ROLE;
GRANT EXECUTE ON FUNCTION wallet_ops.trust_digest_key(text, text) TO signed_auditor;
SET ROLE signed_auditor;
SELECT length(wallet_ops.trust_digest_key('rfc8032-test-3', E'-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA/FHNjmIYoaONpH7QAjDwWAgW7RO6MwOsXeuRFUiQgCU=\n-----END PUBLIC KEY-----\n')) AS key_id_length;
SELECT trusted_by FROM wallet_ops.digest_keys WHERE name = 'rfc8032-test-3';
RESET ROLE;
-- revoking: once, then a notice; an unknown name is an error
SELECT wallet_ops.revoke_digest_key('rfc8032-test-3');
SELECT wallet_ops.revoke_digest_key('rfc8032-test-3');
SELECT wallet_ops.revoke_digest_key('nobody');
SELECT wallet_ops.revoke_digest_key(NULL);
SELECT name, revoked_at IS NOT NULL AS revoked, revoked_by = current_user AS by_me
  FROM wallet_ops.digest_keys WHERE name LIKE 'rfc8032-test-_' ORDER BY name;
-- a revoked key cannot be trusted again, under any name
SELECT wallet_ops.trust_digest_key('rfc8032-test-3b', E'-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA/FHNjmIYoaONpH7QAjDwWAgW7RO6MwOsXeuRFUiQgCU=\n-----END PUBLIC KEY-----\n');
-- a signed digest of a table: the signature member is read field by field
CREATE TABLE signed_t (acct int, memo text);
SELECT wallet_ops.enable_hash_chain('signed_t', '{acct}');
INSERT INTO signed_t VALUES (1, 'a'), (2, 'b'), (1, 'c');
CREATE TEMP TABLE d AS SELECT wallet_ops.chain_digest('signed_t') AS d;
SELECT * FROM wallet_ops.verify_against_digest('signed_t', (SELECT d FROM d));
SELECT * FROM wallet_ops.verify_against_digest('signed_t', (SELECT d || '{"signature": "x"}' FROM d));
SELECT * FROM wallet_ops.verify_against_digest('signed_t', (SELECT d || '{"signature": {"algorithm": "rsa", "key_id": "00", "value": "00"}}' FROM d));
SELECT * FROM wallet_ops.verify_against_digest('signed_t', (SELECT d || '{"signature": {"algorithm": "ed25519", "value": "00"}}' FROM d));
SELECT * FROM wallet_ops.verify_against_digest('signed_t', (SELECT d || jsonb_build_object('signature', jsonb_build_object('algorithm', 'ed25519', 'key_id', repeat('ab', 32), 'value', repeat('0', 127))) FROM d));
-- well formed: by a key nobody trusts; by a revoked key; by a trusted key
-- but not its signature; a signed field missing
SELECT problem, detail FROM wallet_ops.verify_against_digest('signed_t', (SELECT d || jsonb_build_object('signature', jsonb_build_object('algorithm', 'ed25519', 'key_id', repeat('ab', 32), 'value', repeat('0', 128))) FROM d));
SELECT problem FROM wallet_ops.verify_against_digest('signed_t', (SELECT d || jsonb_build_object('signature', jsonb_build_object('algorithm', 'ed25519', 'key_id', key_id, 'value', repeat('0', 128))) FROM d, wallet_ops.digest_keys WHERE name = 'rfc8032-test-3'));
SELECT problem FROM wallet_ops.verify_since_digest('signed_t', (SELECT d || jsonb_build_object('signature', jsonb_build_object('algorithm', 'ed25519', 'key_id', key_id, 'value', repeat('0', 128))) FROM d, wallet_ops.digest_keys WHERE name = 'rfc8032-test-3'));
SELECT problem, detail FROM wallet_ops.verify_against_digest('signed_t', (SELECT d || jsonb_build_object('signature', jsonb_build_object('algorithm', 'ed25519', 'key_id', key_id, 'value', repeat('0', 128))) FROM d, wallet_ops.digest_keys WHERE name = 'rfc8032-test-2'));
SELECT problem, detail FROM wallet_ops.verify_against_digest('signed_t', (SELECT (d - 'row_count') || jsonb_build_object('signature', jsonb_build_object('algorithm', 'ed25519', 'key_id', key_id, 'value', repeat('0', 128))) FROM d, wallet_ops.digest_keys WHERE name = 'rfc8032-test-2'));
REVOKE EXECUTE ON FUNCTION wallet_ops.trust_digest_key(text, text) FROM signed_auditor;
DROP ROLE signed_auditor;
