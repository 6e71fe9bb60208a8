/*-------------------------------------------------------------------------
 *
 * chain_hash.h
 *		The canonical encoding of a row of a hash-chained table and its
 *		SHA-256 (chain_hash.c), and how a column is encoded.
 *
 * The byte format is documented in docs/hash-format.md; any change here
 * must be reflected there (and in the outside verifier).
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_hash.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_CHAIN_HASH_H
#define WALLET_OPS_CHAIN_HASH_H

#include "postgres.h"

#include "access/attnum.h"
#include "fmgr.h"
#include "lib/stringinfo.h"

#include "chain_format.h"

/* How one column (hashed or chain key) is encoded. */
typedef struct ChainColumn
{
	NameData	name;
	AttrNumber	attnum;			/* in the relation this was built for */
	Oid			typid;			/* declared type */
	Oid			basetypid;		/* domains resolved */
	char		tag;			/* field tag, see docs/hash-format.md */
	bool		is_cidr;
	/* arrays: the element */
	Oid			elemtypid;		/* base type of the element */
	char		elemtag;
	bool		elem_is_cidr;
	int16		elemlen;
	bool		elembyval;
	char		elemalign;
	/* text output (chain key columns only) */
	FmgrInfo	outfunc;
} ChainColumn;

/*
 * A chained table's configuration, resolved for one relation (a leaf) by
 * ChainRelInfoBuild (chain_config.c).
 */
typedef struct ChainRelInfo
{
	Oid			relid;			/* the relation the attnums belong to */
	Oid			rootrelid;		/* the table enable_hash_chain was called on */
	int			nkeys;
	ChainColumn *keys;
	int			ncols;
	ChainColumn *cols;
	AttrNumber	seq_attnum;
	AttrNumber	prev_attnum;
	AttrNumber	hash_attnum;
	bool		valid;			/* false once a relcache flush hit it */
} ChainRelInfo;

extern char ChainTypeTag(Oid typid, bool *is_array);
extern bool ChainKeyTypeSupported(Oid typid);
extern void ChainColumnInit(ChainColumn *col, const char *name, AttrNumber attnum,
							Oid typid, bool is_key);
extern void ChainRowHash(const ChainRelInfo *info, int64 seq, const uint8 *prev,
						 const Datum *values, const bool *isnull, uint8 *out);
extern void ChainKeyBytes(const ChainRelInfo *info, const Datum *keyvals,
						  StringInfo buf);
extern void ChainGenesis(const ChainRelInfo *info, const Datum *keyvals, uint8 *out);
extern char *ChainKeyName(const ChainRelInfo *info, const Datum *keyvals,
						  const bool *keynulls);
extern void ChainSha256(const uint8 *data, size_t len, uint8 *out);
extern bytea *ChainHashBytea(const uint8 *hash);
extern bool ChainHashFromDatum(Datum d, bool isnull, uint8 *out);
extern char *ChainHex(const uint8 *hash, int len);
extern bool ChainHexDecode(const char *s, int slen, uint8 *out);
extern void ChainEncodeString(StringInfo buf, const char *s, size_t len);
extern void ChainAppendU32(StringInfo buf, uint32 v);
extern void ChainAppendI64(StringInfo buf, int64 v);

#endif							/* WALLET_OPS_CHAIN_HASH_H */
