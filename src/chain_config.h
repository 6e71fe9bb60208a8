/*-------------------------------------------------------------------------
 *
 * chain_config.h
 *		The configuration of hash-chained tables (wallet_ops.hash_chains,
 *		chain_config.c) and its resolution for one relation.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_config.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_CHAIN_CONFIG_H
#define WALLET_OPS_CHAIN_CONFIG_H

#include "postgres.h"

#include "utils/rel.h"

#include "chain_hash.h"

/* The columns a hash chain adds to its table. */
#define CHAIN_COL_SEQ			"chain_seq"
#define CHAIN_COL_PREV			"prev_hash"
#define CHAIN_COL_HASH			"row_hash"

/* The name of the chain's trigger (chain_trigger.c). */
#define CHAIN_TRIGGER_NAME		"zzz_wallet_ops_hash_chain"

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

extern bool ChainConfigLoad(Oid relid, ChainConfig *cfg);
extern bool ChainIsChained(Oid relid);
extern void ChainConfigInsert(const ChainConfig *cfg);
extern Oid	ChainFindRoot(Oid relid, ChainConfig *cfg);
extern AttrNumber ChainAttnum(Relation rel, const char *name, Oid *typid);
extern ChainRelInfo *ChainRelInfoBuild(Relation rel, const ChainConfig *cfg);

#endif							/* WALLET_OPS_CHAIN_CONFIG_H */
