/*-------------------------------------------------------------------------
 *
 * chain_citus.h
 *		Hash-chained tables distributed with Citus (chain_citus.c): the
 *		checks of enable_hash_chain on a distributed table, and the
 *		configuration of a chain trigger firing on a shard.
 *
 * Citus is detected at run time through its catalog; nothing here needs
 * Citus's headers.  docs/citus.md describes the design.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_citus.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_CHAIN_CITUS_H
#define WALLET_OPS_CHAIN_CITUS_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/tuplestore.h"
#include "utils/rel.h"

#include "chain_config.h"
#include "chain_heads.h"

/* The distribution column would put the rows of one chain on several shards. */
#define ERRCODE_WALLET_OPS_CHAIN_SPLIT_BY_DISTRIBUTION	MAKE_SQLSTATE('W','O','0','1','0')
/* A reference table (a copy on every node) cannot hold a chain. */
#define ERRCODE_WALLET_OPS_CHAIN_ON_REFERENCE_TABLE		MAKE_SQLSTATE('W','O','0','1','1')

/*
 * Whether relid is a Citus table (distributed, reference or Citus-local)
 * on this node; false when Citus is not installed in the database.
 */
extern bool ChainCitusIsCitusTable(Oid relid);

/*
 * ERROR unless the Citus table relid can be hash-chained with these chain
 * key columns: hash-distributed by one of them, and empty.
 */
extern void ChainCitusCheckEnable(Oid relid, char **keys, int nkeys);

/*
 * Appends to buf the arguments of the chain trigger, a copy of the
 * configuration that Citus takes along to every shard it creates.
 */
extern void ChainCitusTriggerArgs(StringInfo buf, const ChainConfig *cfg);

/*
 * When rel is a shard of a hash-chained Citus table, fill cfg from Citus's
 * copy of its chain trigger, whose arguments copy the table's
 * configuration, and return true; cfg->rootrelid is the shard itself,
 * whose chain heads live beside it.  ERROR when the table's distribution
 * would split a chain, or when it is a reference table.
 */
extern bool ChainShardConfigLoad(Relation rel, ChainConfig *cfg);

/*
 * verify_chain of the distributed table relid (of one chain when
 * chain_value is not NULL), or verify_against_digest when digest (the
 * digest as JSON text) is not NULL: runs it on every shard in parallel
 * through Citus (run_command_on_shards) and puts the problems they report,
 * merged, into store.  ERROR when a shard could not be verified.
 */
extern void ChainCitusVerify(Oid relid, const char *chain_value,
							 const char *digest,
							 Tuplestorestate *store, TupleDesc desc);

/*
 * Visit the recorded head of every chain of the distributed table relid,
 * read from all its shards at once (each shard's chain_digest), in the
 * order of a digest: the byte order of the chains' UTF-8 names.
 */
extern void ChainCitusShardHeads(Oid relid, ChainHeadsVisit visit, void *arg);

/* One problem a verification reported (chain NULL: the digest's own). */
typedef void (*ChainProblemVisit) (const char *chain, int64 seq, bool seq_null,
								   const char *problem, const char *detail,
								   void *arg);

/*
 * verify_since_digest of the distributed table relid against digest (the
 * digest as JSON text): runs it on every shard in parallel through Citus
 * and visits the problems they report, merged, in chain and row order.
 * The digest's own checks (its signature) are the caller's.  ERROR when a
 * shard could not be verified.
 */
extern void ChainCitusVerifySince(Oid relid, const char *digest,
								  ChainProblemVisit visit, void *arg);

#endif							/* WALLET_OPS_CHAIN_CITUS_H */
