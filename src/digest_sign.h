/*-------------------------------------------------------------------------
 *
 * digest_sign.h
 *		Signed digests (digest_sign.c): the Ed25519 signature a digest may
 *		carry, checked against the keys trusted in wallet_ops.digest_keys.
 *
 * The signature covers the bytes of docs/hash-format.md, "Signed
 * digests": the digest's fields other than its list of chains (which its
 * merkle_root commits to), built here and in tools/wallet_ops_verify.c
 * from the constants of chain_format.h.  The private key never enters the
 * database: digests are signed outside, by wallet_ops_verify.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/digest_sign.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_DIGEST_SIGN_H
#define WALLET_OPS_DIGEST_SIGN_H

#include "postgres.h"

#include "chain_format.h"

/*
 * SQLSTATEs of a signature that does not hold (class WO, wallet_ops'
 * own): the problem names of verify_against_digest, raised as errors by
 * the functions that return no problem rows (chain_proof).
 */
#define ERRCODE_WALLET_OPS_SIGNATURE_MISMATCH	MAKE_SQLSTATE('W','O','0','0','1')
#define ERRCODE_WALLET_OPS_SIGNING_KEY_UNKNOWN	MAKE_SQLSTATE('W','O','0','0','2')
#define ERRCODE_WALLET_OPS_SIGNING_KEY_REVOKED	MAKE_SQLSTATE('W','O','0','0','3')

/*
 * What a signature covers, as read from a digest by ChainDigestParse
 * (chain_verify.c); strings in the database encoding, NULL when absent.
 */
typedef struct DigestSignature
{
	bool		present;		/* the digest has a "signature" member */
	uint8		key_id[CHAIN_HASH_LEN];
	uint8		value[CHAIN_SIGNATURE_LEN];
	const char *format;
	const char *hash_format;
	const char *table;
	const char *taken_at;
	const char *system_identifier;
	bool		has_chain_count;
	int64		chain_count;
	bool		has_row_count;
	int64		row_count;
	bool		has_root;
	uint8		root[CHAIN_HASH_LEN];
} DigestSignature;

typedef enum DigestSignatureOutcome
{
	DIGEST_UNSIGNED,			/* no signature to check */
	DIGEST_SIGNATURE_VALID,		/* by a trusted key, not revoked */
	DIGEST_SIGNATURE_MISMATCH,	/* edited after it was signed */
	DIGEST_SIGNING_KEY_UNKNOWN, /* by no key in wallet_ops.digest_keys */
	DIGEST_SIGNING_KEY_REVOKED	/* by a key revoked since */
} DigestSignatureOutcome;

/*
 * Check sig; on an outcome other than unsigned or valid, *detail is a
 * sentence saying what was found.  Reads wallet_ops.digest_keys as the
 * extension's owner (connects to SPI itself).
 */
extern DigestSignatureOutcome DigestSignatureCheck(const DigestSignature *sig,
												   char **detail);

/* The problem name of an outcome (signature_mismatch, ...), NULL if none. */
extern const char *DigestSignatureProblem(DigestSignatureOutcome outcome);

/* ERROR with the outcome's SQLSTATE unless sig is absent or valid. */
extern void DigestSignatureRequireValid(const DigestSignature *sig);

#endif							/* WALLET_OPS_DIGEST_SIGN_H */
