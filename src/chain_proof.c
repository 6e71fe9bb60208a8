/*-------------------------------------------------------------------------
 *
 * chain_proof.c
 *		wallet_ops.chain_proof(): the proof that a digest attests one chain.
 *
 * A digest's merkle_root commits to the head of every chain.  A proof
 * carries one chain's leaf (chain_key, last_seq, head_hash), its index
 * among the digest's chains, the sibling hashes on its way up the digest's
 * Merkle tree, and the digest without its chains: the fields a signature
 * covers, merkle_root and the signature if there is one.  Whoever holds
 * the proof recomputes the root from the leaf and the path, and checks the
 * signature, without seeing any other chain (wallet_ops_verify prove).
 * The tree is the one the digest was made with (ChainDigestMerkle in
 * chain_verify.c); the format is in docs/hash-format.md, "Proof for one
 * chain".
 *
 * A proof shows that the digest attests the chain, nothing about the rows
 * now in the table: verify_against_digest() says whether they still
 * extend what the digest attested.  The digest given is checked first (its
 * merkle_root against its chains, its signature against the trusted keys),
 * so no proof is made from a digest that would not verify.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_proof.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/rel.h"

#include "chain_config.h"
#include "chain_hash.h"
#include "chain_proof.h"
#include "chain_verify.h"
#include "common.h"
#include "digest_sign.h"

PG_FUNCTION_INFO_V1(wallet_ops_chain_proof);

/* a path never has more levels than a 64-bit count of chains has bits */
#define PROOF_MAX_PATH	64

/*
 * The table's name as chain_digest() writes it into a digest; refuses a
 * table that is not hash-chained or that the caller may not read.
 */
static char *
proof_table_name(Oid relid)
{
	Relation	rel = WalletOpsRelationOpen(relid, AccessShareLock);
	ChainConfig cfg;
	char	   *name;

	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", RelationGetRelationName(rel)),
				 errdetail("A proof is made for the readers of the table."),
				 errhint("Ask the table's owner for SELECT on it.")));
	if (!ChainConfigLoad(relid, &cfg))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not hash-chained", RelationGetRelationName(rel)),
				 errhint("Use wallet_ops.enable_hash_chain() first.")));
	name = WalletOpsRelationQualifiedName(rel);
	relation_close(rel, AccessShareLock);
	return name;
}

/*
 * wallet_ops.chain_proof(tbl regclass, chain_key text, digest jsonb)
 *	RETURNS jsonb
 *
 * The proof that digest, a digest of tbl, attests the chain named
 * chain_key.  Errors: the digest is of another table or malformed (22023),
 * does not match its own merkle_root (WO004), has a signature that does
 * not hold (WO001-WO003), or does not list the chain (42704).
 */
Datum
wallet_ops_chain_proof(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb;
	char	   *table;
	char	   *name;
	ChainDigest digest;
	uint8		root[CHAIN_HASH_LEN];
	uint8		path[CHAIN_HASH_LEN * PROOF_MAX_PATH];
	bool		path_left[PROOF_MAX_PATH];
	int			npath = 0;
	int			index;
	bool		found;
	int			i;
	Jsonb	   *fields;
	StringInfoData buf;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table, chain key and digest must not be null"),
				 errhint("The chain of a table without chain key columns is named ''.")));
	table = proof_table_name(PG_GETARG_OID(0));
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	jb = PG_GETARG_JSONB_P(2);
	ChainDigestParse(jb, true, &digest);

	if (digest.signature.table == NULL || strcmp(digest.signature.table, table) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("digest is of table %s, not of %s",
						digest.signature.table ? digest.signature.table : "(none)", table),
				 errdetail("A digest names the table it was taken of, as it was named then."),
				 errhint("Pass a digest taken of this table by wallet_ops.chain_digest().")));

	/*
	 * The digest as it would verify, its root then its signature, on the
	 * walk up the tree that yields the chain's path
	 */
	for (index = 0; index < digest.nchains; index++)
		if (strcmp(digest.chains[index].name, name) == 0)
			break;
	found = index < digest.nchains;
	ChainDigestMerkle(digest.chains, digest.nchains, root, found ? index : -1,
					  found ? path : NULL, path_left, &npath);
	if (memcmp(root, digest.root, CHAIN_HASH_LEN) != 0 || digest.count != digest.nchains)
		ereport(ERROR,
				(errcode(ERRCODE_WALLET_OPS_DIGEST_MISMATCH),
				 errmsg("digest does not match its own merkle_root"),
				 errdetail("The digest's merkle_root %s or chain_count " INT64_FORMAT " does not match its %d chains (merkle root %s).",
						   ChainHex(digest.root, CHAIN_HASH_LEN), digest.count,
						   digest.nchains, ChainHex(root, CHAIN_HASH_LEN)),
				 errhint("The digest was edited after it was taken: use the digest as it was kept outside the database, and keep the edited one as evidence.")));
	DigestSignatureRequireValid(&digest.signature);

	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("digest of table %s attests no chain named \"%s\"", table, name),
				 errdetail("The digest lists the %d chains that had rows when it was taken.",
						   digest.nchains),
				 errhint("Name the chain as wallet_ops.chain_heads.chain_key does, or take a newer digest with wallet_ops.chain_digest().")));

	/* the digest without its chains: what the signature covers, and it */
	fields = DatumGetJsonbP(DirectFunctionCall2(jsonb_delete, JsonbPGetDatum(jb),
												CStringGetTextDatum("chains")));

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"format\": \"" CHAIN_PROOF_FORMAT "\", \"digest\": ");
	appendStringInfoString(&buf, JsonbToCString(NULL, &fields->root, VARSIZE(fields)));
	appendStringInfoString(&buf, ", \"chain\": {\"chain_key\": ");
	escape_json(&buf, name);
	appendStringInfo(&buf, ", \"last_seq\": " INT64_FORMAT ", \"head_hash\": \"%s\"}",
					 digest.chains[index].seq,
					 ChainHex(digest.chains[index].hash, CHAIN_HASH_LEN));
	appendStringInfo(&buf, ", \"leaf_index\": %d, \"path\": [", index);
	for (i = 0; i < npath; i++)
		appendStringInfo(&buf, "%s{\"side\": \"%s\", \"hash\": \"%s\"}",
						 i > 0 ? ", " : "", path_left[i] ? "left" : "right",
						 ChainHex(path + CHAIN_HASH_LEN * i, CHAIN_HASH_LEN));
	appendStringInfoString(&buf, "]}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
