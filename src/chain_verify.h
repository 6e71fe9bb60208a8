/*-------------------------------------------------------------------------
 *
 * chain_verify.h
 *		Verification of hash chains and digests (chain_verify.c): what the
 *		other ways of verifying a chain share with verify_chain.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_verify.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_CHAIN_VERIFY_H
#define WALLET_OPS_CHAIN_VERIFY_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "chain_hash.h"
#include "digest_sign.h"

/* One chain a digest (wallet_ops.chain_digest) attests. */
typedef struct ChainDigestHead
{
	char	   *name;
	int64		seq;
	uint8		hash[CHAIN_HASH_LEN];
} ChainDigestHead;

/* A digest read back and checked field by field. */
typedef struct ChainDigest
{
	int			nchains;
	ChainDigestHead *chains;	/* in the digest's order */
	bool		has_root;		/* merkle_root was given */
	uint8		root[CHAIN_HASH_LEN];
	bool		has_count;		/* chain_count was given */
	int64		count;
	DigestSignature signature;	/* what a signature covers, and the signature */
} ChainDigest;

/*
 * Read digest into *out.  A value that is not a digest of this format is
 * refused with 22023 and a message naming the field that is wrong (not an
 * object; format missing or not supported; chains missing or not an array;
 * a chain that is not an object, or whose chain_key, last_seq or head_hash
 * is missing or malformed; a chain named twice; merkle_root, chain_count or
 * hash_format malformed; a signature that is not an object with algorithm
 * "ed25519", a key_id of 64 and a value of 128 hexadecimal digits).  With
 * complete, merkle_root, chain_count and hash_format are required as well.
 * The signature is read, not checked: see DigestSignatureCheck.
 */
extern void ChainDigestParse(Jsonb *digest, bool complete, ChainDigest *out);

/*
 * The Merkle root of a digest over chains (docs/hash-format.md, "Digest"),
 * and with path not NULL, the inclusion path of leaf index (bottom-up
 * siblings, path_left[i] when sibling i is on the left; at most 64).
 */
extern void ChainDigestMerkle(const ChainDigestHead *chains, int n, uint8 *root,
							  int index, uint8 *path, bool *path_left, int *npath);

extern HTAB *ChainNameTableCreate(const char *tabname, long nelem, Size entrysize,
								  MemoryContext cxt);
extern void *ChainNameTableEnter(HTAB *table, const char *name, MemoryContext cxt,
								 bool *found);
extern void ChainProblemPut(Tuplestorestate *tupstore, TupleDesc tupdesc,
							const char *chain, int64 seq, bool seq_null,
							const char *problem, const char *detail);

#endif							/* WALLET_OPS_CHAIN_VERIFY_H */
