/*-------------------------------------------------------------------------
 *
 * digest_sign.c
 *		Signed digests: the keys trusted to sign them (the only code that
 *		reads or writes wallet_ops.digest_keys), trust_digest_key(),
 *		revoke_digest_key(), and the check of a digest's Ed25519 signature.
 *
 * Digests are signed outside the database (wallet_ops_verify digest
 * --sign-key), so the private key never enters it; the database holds
 * public keys only.  A key is known by its id, the SHA-256 of its 32
 * bytes, which a signed digest names.  A revoked key stays in the table,
 * and a digest it signed is refused whatever its date: whoever holds a
 * stolen key can write any taken_at.
 *
 * OpenSSL is used through its EVP interface only.  Its objects live
 * between an allocation and a free with no PostgreSQL call in between
 * (nothing there can raise an error and leave them behind); errors are
 * reported after everything is freed.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/digest_sign.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "chain_hash.h"
#include "common.h"
#include "digest_sign.h"

#if OPENSSL_VERSION_NUMBER < 0x10101000L
#error "wallet_ops needs OpenSSL 1.1.1 or later for Ed25519"
#endif

PG_FUNCTION_INFO_V1(wallet_ops_trust_digest_key);
PG_FUNCTION_INFO_V1(wallet_ops_revoke_digest_key);

/* A trusted key as read from wallet_ops.digest_keys. */
typedef struct DigestKey
{
	char	   *name;
	uint8		public_key[CHAIN_PUBKEY_LEN];
	bool		revoked;
} DigestKey;

/* ---- OpenSSL ---------------------------------------------------------------- */

/*
 * The 32 bytes of the Ed25519 public key in PEM text pem (a
 * SubjectPublicKeyInfo, "BEGIN PUBLIC KEY"); false with *why set if it is
 * not one.
 */
static bool
digest_key_from_pem(const char *pem, uint8 *raw, const char **why)
{
	BIO		   *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY   *pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	size_t		rawlen = CHAIN_PUBKEY_LEN;
	bool		ok;

	*why = NULL;
	if (bio == NULL)
		*why = "OpenSSL could not allocate a buffer.";
	else if (pkey == NULL)
		*why = "It is not a PEM public key (\"-----BEGIN PUBLIC KEY-----\").";
	else if (EVP_PKEY_id(pkey) != EVP_PKEY_ED25519)
		*why = "It is a public key of another algorithm than Ed25519.";
	else if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) != 1 ||
			 rawlen != CHAIN_PUBKEY_LEN)
		*why = "OpenSSL could not read its 32 bytes.";
	ok = *why == NULL;
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	ERR_clear_error();
	return ok;
}

/*
 * Whether sig is the Ed25519 signature of msg by public key pub: 1 yes,
 * 0 no, -1 OpenSSL failed.
 */
static int
digest_ed25519_verify(const uint8 *pub, const uint8 *sig,
					  const uint8 *msg, size_t len)
{
	EVP_PKEY   *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
												   pub, CHAIN_PUBKEY_LEN);
	EVP_MD_CTX *ctx = pkey ? EVP_MD_CTX_new() : NULL;
	int			rc = -1;

	/* Ed25519 hashes the message itself: no digest type (NULL) */
	if (ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1)
		rc = EVP_DigestVerify(ctx, sig, CHAIN_SIGNATURE_LEN, msg, len) == 1 ? 1 : 0;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

/* ---- the signed message ------------------------------------------------------ */

/* bytes(s), s in the database encoding, in UTF-8. */
static void
digest_put_string(StringInfo buf, const char *s)
{
	char	   *utf8 = pg_server_to_any(s, strlen(s), PG_UTF8);

	ChainEncodeString(buf, utf8, strlen(utf8));
	if (utf8 != s)
		pfree(utf8);
}

/*
 * The bytes a signature covers (docs/hash-format.md, "Signed digests"):
 *
 *	bytes("wallet_ops/digest-signature/v1") || bytes("ed25519") || key_id ||
 *	bytes(format) || bytes(hash_format) || bytes(table) || bytes(taken_at) ||
 *	bytes(system_identifier) || i64(chain_count) || i64(row_count) ||
 *	merkle_root
 *
 * False, with *missing naming the field, when the digest lacks one.
 */
static bool
digest_signed_message(const DigestSignature *sig, StringInfo buf,
					  const char **missing)
{
	const char *const strings[] = {sig->format, sig->hash_format, sig->table,
	sig->taken_at, sig->system_identifier};
	const char *const names[] = {"format", "hash_format", "table", "taken_at",
	"system_identifier"};
	int			i;

	*missing = NULL;
	for (i = 0; i < lengthof(strings); i++)
		if (strings[i] == NULL)
			*missing = names[i];
	if (!sig->has_chain_count)
		*missing = "chain_count";
	if (!sig->has_row_count)
		*missing = "row_count";
	if (!sig->has_root)
		*missing = "merkle_root";
	if (*missing)
		return false;
	ChainEncodeString(buf, CHAIN_SIGNATURE_DOMAIN, strlen(CHAIN_SIGNATURE_DOMAIN));
	ChainEncodeString(buf, CHAIN_SIGNATURE_ALGORITHM, strlen(CHAIN_SIGNATURE_ALGORITHM));
	appendBinaryStringInfo(buf, (const char *) sig->key_id, CHAIN_HASH_LEN);
	for (i = 0; i < lengthof(strings); i++)
		digest_put_string(buf, strings[i]);
	ChainAppendI64(buf, sig->chain_count);
	ChainAppendI64(buf, sig->row_count);
	appendBinaryStringInfo(buf, (const char *) sig->root, CHAIN_HASH_LEN);
	return true;
}

/* ---- wallet_ops.digest_keys --------------------------------------------------- */

/*
 * Run sql on wallet_ops.digest_keys as the extension's owner; the result
 * must be "expected".  Caller is connected to SPI.
 */
static void
digest_keys_execute(const char *sql, int nargs, Oid *types, Datum *values,
					const char *nulls, bool read_only, int expected)
{
	WalletOpsOwnerContext owner_ctx;
	int			ret;

	WalletOpsOwnerBegin(&owner_ctx);
	ret = SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, 0);
	WalletOpsOwnerEnd(&owner_ctx);
	if (ret != expected)
		elog(ERROR, "could not run \"%s\": %s", sql, SPI_result_code_string(ret));
}

/*
 * The trusted key whose id is key_id (hex), looked up by id or, when name is
 * given, by name or id; false if there is none.  Caller is connected to SPI.
 */
static bool
digest_key_find(const char *key_id, const char *name, DigestKey *key)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	bool		isnull;
	bytea	   *b;

	values[0] = CStringGetTextDatum(key_id);
	if (name)
		values[1] = CStringGetTextDatum(name);
	else
		nulls[1] = 'n';
	digest_keys_execute("SELECT name, public_key, revoked_at IS NOT NULL"
						"  FROM wallet_ops.digest_keys"
						" WHERE key_id OPERATOR(pg_catalog.=) $1"
						"    OR name OPERATOR(pg_catalog.=) $2"
						" ORDER BY key_id OPERATOR(pg_catalog.=) $1 DESC LIMIT 1",
						2, types, values, nulls, true, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return false;
	key->name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	b = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (isnull || VARSIZE_ANY_EXHDR(b) != CHAIN_PUBKEY_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("trusted digest key \"%s\" is corrupted", key->name),
				 errdetail("Its public_key is not %d bytes long.", CHAIN_PUBKEY_LEN),
				 errhint("Revoke it with wallet_ops.revoke_digest_key() and trust the key again under another name.")));
	memcpy(key->public_key, VARDATA_ANY(b), CHAIN_PUBKEY_LEN);
	key->revoked = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	return true;
}

DigestSignatureOutcome
DigestSignatureCheck(const DigestSignature *sig, char **detail)
{
	MemoryContext caller = CurrentMemoryContext;
	StringInfoData msg;
	const char *missing;
	char	   *key_id = ChainHex(sig->key_id, CHAIN_HASH_LEN);
	DigestKey	key;
	bool		found;
	int			rc;

	*detail = NULL;
	if (!sig->present)
		return DIGEST_UNSIGNED;
	initStringInfo(&msg);
	if (!digest_signed_message(sig, &msg, &missing))
	{
		*detail = psprintf("the digest is signed but has no field \"%s\", which its signature covers",
						   missing);
		return DIGEST_SIGNATURE_MISMATCH;
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	found = digest_key_find(key_id, NULL, &key);
	if (found)
		key.name = MemoryContextStrdup(caller, key.name);
	SPI_finish();

	if (!found)
	{
		*detail = psprintf("the digest is signed by key %s, which is not in wallet_ops.digest_keys",
						   key_id);
		return DIGEST_SIGNING_KEY_UNKNOWN;
	}
	if (key.revoked)
	{
		*detail = psprintf("the digest is signed by key \"%s\" (%s), which was revoked",
						   key.name, key_id);
		return DIGEST_SIGNING_KEY_REVOKED;
	}
	rc = digest_ed25519_verify(key.public_key, sig->value, (const uint8 *) msg.data, msg.len);
	if (rc < 0)
		elog(ERROR, "could not verify an Ed25519 signature with OpenSSL");
	if (rc == 0)
	{
		*detail = psprintf("the signature by key \"%s\" (%s) does not match the digest's content: the digest was edited after it was signed",
						   key.name, key_id);
		return DIGEST_SIGNATURE_MISMATCH;
	}
	return DIGEST_SIGNATURE_VALID;
}

const char *
DigestSignatureProblem(DigestSignatureOutcome outcome)
{
	switch (outcome)
	{
		case DIGEST_SIGNATURE_MISMATCH:
			return "signature_mismatch";
		case DIGEST_SIGNING_KEY_UNKNOWN:
			return "signing_key_unknown";
		case DIGEST_SIGNING_KEY_REVOKED:
			return "signing_key_revoked";
		default:
			return NULL;
	}
}

void
DigestSignatureRequireValid(const DigestSignature *sig)
{
	char	   *detail;

	switch (DigestSignatureCheck(sig, &detail))
	{
		case DIGEST_UNSIGNED:
		case DIGEST_SIGNATURE_VALID:
			return;
		case DIGEST_SIGNATURE_MISMATCH:
			ereport(ERROR,
					(errcode(ERRCODE_WALLET_OPS_SIGNATURE_MISMATCH),
					 errmsg("digest signature does not match the digest"),
					 errdetail("%s.", detail),
					 errhint("Use the digest file exactly as it was signed; keep the edited one as evidence.")));
			break;
		case DIGEST_SIGNING_KEY_UNKNOWN:
			ereport(ERROR,
					(errcode(ERRCODE_WALLET_OPS_SIGNING_KEY_UNKNOWN),
					 errmsg("digest is signed by a key that is not trusted"),
					 errdetail("%s.", detail),
					 errhint("Trust the signer's public key with wallet_ops.trust_digest_key() if it is yours.")));
			break;
		case DIGEST_SIGNING_KEY_REVOKED:
			ereport(ERROR,
					(errcode(ERRCODE_WALLET_OPS_SIGNING_KEY_REVOKED),
					 errmsg("digest is signed by a revoked key"),
					 errdetail("%s.", detail),
					 errhint("Use a digest signed by a key that is still trusted.")));
			break;
	}
}

/* ---- SQL functions ---------------------------------------------------------- */

static char *
digest_key_name_arg(FunctionCallInfo fcinfo)
{
	char	   *name;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("key name must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key name must not be empty"),
				 errhint("Name the key after who signs with it, e.g. 'audit-2026'.")));
	return name;
}

/*
 * wallet_ops.trust_digest_key(name text, public_key_pem text) RETURNS text
 *
 * Records an Ed25519 public key under name; returns its key id.  EXECUTE is
 * revoked from PUBLIC: superusers, or roles granted it.
 */
Datum
wallet_ops_trust_digest_key(PG_FUNCTION_ARGS)
{
	char	   *name = digest_key_name_arg(fcinfo);
	char	   *pem;
	const char *why;
	uint8		raw[CHAIN_PUBKEY_LEN];
	uint8		id[CHAIN_HASH_LEN];
	char	   *key_id;
	DigestKey	existing;
	Oid			types[4] = {TEXTOID, TEXTOID, BYTEAOID, TEXTOID};
	Datum		values[4];
	bytea	   *b;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("public key must not be null")));
	pem = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (strstr(pem, "PRIVATE KEY") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("public key of digest key \"%s\" is a private key", name),
				 errdetail("A private key must never enter the database."),
				 errhint("Pass the public key file written by \"wallet_ops_verify keygen\" (PREFIX.pub), and keep the private key where it was.")));
	if (!digest_key_from_pem(pem, raw, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("public key of digest key \"%s\" is not an Ed25519 public key", name),
				 errdetail("%s", why),
				 errhint("Pass the public key file written by \"wallet_ops_verify keygen\" (PREFIX.pub).")));
	ChainSha256(raw, CHAIN_PUBKEY_LEN, id);
	key_id = ChainHex(id, CHAIN_HASH_LEN);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (digest_key_find(key_id, name, &existing))
	{
		if (strcmp(existing.name, name) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("digest key %s is already trusted as \"%s\"", key_id, existing.name),
					 existing.revoked ? errdetail("It was revoked, and a revoked key cannot be trusted again.") : 0,
					 errhint("A key is trusted under one name only.")));
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("digest key \"%s\" already exists", name),
				 existing.revoked ? errdetail("It was revoked, and a revoked key cannot be trusted again.") : 0,
				 errhint("Choose another name for a new key.")));
	}
	b = palloc(VARHDRSZ + CHAIN_PUBKEY_LEN);
	SET_VARSIZE(b, VARHDRSZ + CHAIN_PUBKEY_LEN);
	memcpy(VARDATA(b), raw, CHAIN_PUBKEY_LEN);
	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(key_id);
	values[2] = PointerGetDatum(b);
	values[3] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	digest_keys_execute("INSERT INTO wallet_ops.digest_keys (name, key_id, public_key, trusted_by)"
						" VALUES ($1, $2, $3, $4)",
						4, types, values, NULL, false, SPI_OK_INSERT);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(key_id));
}

/*
 * wallet_ops.revoke_digest_key(name text) RETURNS void
 *
 * From now on a digest signed by the key is refused.  The key stays
 * recorded, so it cannot be trusted again.
 */
Datum
wallet_ops_revoke_digest_key(PG_FUNCTION_ARGS)
{
	char	   *name = digest_key_name_arg(fcinfo);
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	DigestKey	existing;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	digest_keys_execute("UPDATE wallet_ops.digest_keys SET revoked_at = pg_catalog.now(), revoked_by = $2"
						" WHERE name OPERATOR(pg_catalog.=) $1 AND revoked_at IS NULL",
						2, types, values, NULL, false, SPI_OK_UPDATE);
	if (SPI_processed == 0)
	{
		/* a key id matches no name: only the name is looked up here */
		if (!digest_key_find("", name, &existing))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("digest key \"%s\" does not exist", name),
					 errhint("The trusted keys are listed in wallet_ops.digest_keys.")));
		ereport(NOTICE,
				(errmsg("digest key \"%s\" is already revoked, skipping", name)));
	}
	SPI_finish();
	PG_RETURN_VOID();
}
