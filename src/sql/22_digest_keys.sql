-- ---------------------------------------------------------------------------
-- Signed digests (docs/compliance.md, bytes in docs/hash-format.md): the
-- Ed25519 public keys trusted to sign digests.  Digests are signed outside
-- the database (wallet_ops_verify digest --sign-key); no private key is
-- ever stored here.
-- ---------------------------------------------------------------------------
CREATE TABLE wallet_ops.digest_keys (
    name       pg_catalog.text PRIMARY KEY,
    key_id     pg_catalog.text NOT NULL UNIQUE,
    public_key pg_catalog.bytea NOT NULL,
    trusted_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    trusted_by pg_catalog.name NOT NULL,
    revoked_at pg_catalog.timestamptz,
    revoked_by pg_catalog.name
);
COMMENT ON TABLE wallet_ops.digest_keys IS
  'Ed25519 public keys trusted to sign digests: key_id is the SHA-256 of the 32-byte key; a revoked key stays, refused';

SELECT pg_catalog.pg_extension_config_dump('wallet_ops.digest_keys', '');

REVOKE ALL ON wallet_ops.digest_keys FROM PUBLIC;
GRANT SELECT ON wallet_ops.digest_keys TO PUBLIC;

CREATE FUNCTION wallet_ops.trust_digest_key(name pg_catalog.text, public_key_pem pg_catalog.text)
RETURNS pg_catalog.text
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_trust_digest_key';
COMMENT ON FUNCTION wallet_ops.trust_digest_key(pg_catalog.text, pg_catalog.text) IS
  'Trust an Ed25519 public key (PEM) to sign digests; returns its key id (superuser, or granted)';
REVOKE ALL ON FUNCTION wallet_ops.trust_digest_key(pg_catalog.text, pg_catalog.text) FROM PUBLIC;

CREATE FUNCTION wallet_ops.revoke_digest_key(name pg_catalog.text)
RETURNS void
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_revoke_digest_key';
COMMENT ON FUNCTION wallet_ops.revoke_digest_key(pg_catalog.text) IS
  'Revoke a digest key: digests it signed are refused from now on (superuser, or granted)';
REVOKE ALL ON FUNCTION wallet_ops.revoke_digest_key(pg_catalog.text) FROM PUBLIC;
