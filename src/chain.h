/*-------------------------------------------------------------------------
 *
 * chain.h
 *		Hash-chained tables: the canonical row encoding and its SHA-256
 *		(chain_hash.c), the insert trigger and its per-transaction cache of
 *		chain heads (chain_trigger.c), verification and digests
 *		(chain_verify.c) and enable_hash_chain (chain_enable.c).
 *
 * The byte format is documented in docs/hash-format.md; any change here
 * must be reflected there (and in the outside verifier).
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_CHAIN_H
#define WALLET_OPS_CHAIN_H

#include "postgres.h"

#include "access/attnum.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/execnodes.h"
#include "storage/itemptr.h"
#include "utils/hsearch.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#define CHAIN_HASH_LEN			32
#define CHAIN_FORMAT_VERSION	1

#define CHAIN_COL_SEQ			"chain_seq"
#define CHAIN_COL_PREV			"prev_hash"
#define CHAIN_COL_HASH			"row_hash"

#define CHAIN_TRIGGER_NAME		"zzz_wallet_ops_hash_chain"

/* ---- chain_hash.c ---------------------------------------------------- */

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

/* A chained table's configuration, resolved for one relation (a leaf). */
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

/* The stored configuration of a chained table (wallet_ops.hash_chains). */
typedef struct ChainConfig
{
	Oid			rootrelid;
	int			nkeys;
	char	  **keys;
	int			ncols;
	char	  **cols;
	int			format_version;
} ChainConfig;

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
extern void ChainProblemPut(Tuplestorestate *tupstore, TupleDesc tupdesc,
							const char *chain, int64 seq, bool seq_null,
							const char *problem, const char *detail);
extern void ChainEncodeString(StringInfo buf, const char *s, size_t len);
extern void ChainAppendU32(StringInfo buf, uint32 v);
extern void ChainAppendI64(StringInfo buf, int64 v);

/* ---- chain_config.c -------------------------------------------------- */

extern bool ChainConfigLoad(Oid relid, ChainConfig *cfg);
extern bool ChainIsChained(Oid relid);
extern void ChainConfigInsert(const ChainConfig *cfg);
extern AttrNumber ChainAttnum(Relation rel, const char *name, Oid *typid);
extern Oid	ChainFindRoot(Oid relid, ChainConfig *cfg);
extern ChainRelInfo *ChainRelInfoBuild(Relation rel, const ChainConfig *cfg);

/* ---- chain_verify.c -------------------------------------------------- */

extern HTAB *ChainNameTableCreate(const char *tabname, long nelem, Size entrysize,
								  MemoryContext cxt);
extern void *ChainNameTableEnter(HTAB *table, const char *name, MemoryContext cxt,
								 bool *found);

/* ---- chain_heads.c --------------------------------------------------- */

/* wallet_ops.chain_heads opened for direct access */
typedef struct ChainHeadsAccess
{
	Relation	heads;
	Relation	pkey;
	IndexInfo  *pkey_info;
	TupleTableSlot *slot;		/* versions read from the table */
	TupleTableSlot *newslot;	/* versions written to it */
} ChainHeadsAccess;

extern void ChainHeadsOpen(ChainHeadsAccess *acc);
extern void ChainHeadsClose(ChainHeadsAccess *acc);
extern void ChainHeadsLock(ChainHeadsAccess *acc, Oid rootrelid, const char *name,
						   const uint8 *genesis, int64 *seq, uint8 *hash,
						   ItemPointer tid);
extern void ChainHeadsWrite(ChainHeadsAccess *acc, Oid rootrelid, const char *name,
							ItemPointer tid, int64 seq, const uint8 *hash);

extern void ChainHeadsInsert(Oid rootrelid, const char *name, int64 seq,
							 const uint8 *hash);

/* One recorded head; hash is NULL when none is recorded (or it is not one). */
typedef void (*ChainHeadsVisit) (const char *name, int64 seq, const uint8 *hash,
								 void *arg);

extern void ChainHeadsForEach(Oid rootrelid, const char *only, bool utf8_order,
							  ChainHeadsVisit visit, void *arg);

/* ---- chain_trigger.c ------------------------------------------------- */

extern void ChainInstallHooks(void);
extern bool ChainHeadCacheLookup(Oid rootrelid, const char *name,
								 int64 *seq, uint8 *hash);

#endif							/* WALLET_OPS_CHAIN_H */
