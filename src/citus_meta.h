/*-------------------------------------------------------------------------
 *
 * citus_meta.h
 *		What Citus's metadata on this node says of a relation
 *		(citus_meta.c): whether it is a Citus table and how it is
 *		distributed, and whether it is a shard, of which table.
 *
 * Citus is detected at run time through its catalog tables (pg_dist_*);
 * nothing here needs Citus's headers, and without Citus every answer is
 * "no".  Depends on no other file of src/.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/citus_meta.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_CITUS_META_H
#define WALLET_OPS_CITUS_META_H

#include "postgres.h"

#include "utils/rel.h"

/* A Citus table, as pg_dist_partition describes it. */
typedef struct CitusTableInfo
{
	char		partmethod;		/* 'h' hash, 'n' none, ... */
	char		repmodel;		/* 't' for reference tables */
	char	   *distcol;		/* distribution column, NULL if none */
} CitusTableInfo;

/* Whether Citus's metadata tables exist in this database. */
extern bool CitusMetaPresent(void);

/*
 * Fill *ti (in the current memory context) when relid is a Citus table
 * (distributed, reference or Citus-local); false otherwise.
 */
extern bool CitusMetaTableInfo(Oid relid, CitusTableInfo *ti);

/* The shard id a shard's name <table>_<shard id> ends with; 0 if none. */
extern int64 CitusMetaShardIdOfName(const char *relname);

/*
 * The Citus table rel is a shard of, by pg_dist_shard on this node;
 * InvalidOid when it is none.  *unknown (unless NULL) is set when rel is
 * named like a shard that this node's metadata does not know (yet).
 */
extern Oid	CitusMetaShardTable(Relation rel, bool *unknown);

/*
 * Whether tgname is trigger name "base" as it is on rel: base itself, or,
 * when rel is named like a shard, base with a shard id appended the way
 * Citus names the triggers it copies onto shards (the shard's own id, or
 * on the shard of a partition the id of its parent's shard).
 */
extern bool CitusMetaTriggerNameIs(const char *tgname, const char *base,
								   Relation rel);

/*
 * Lets this transaction create triggers on Citus tables (Citus refuses them
 * unless citus.enable_unsafe_triggers is on) until AtEOXact_GUC(true, the
 * returned nest level).
 */
extern int	CitusMetaAllowTriggers(void);

#endif							/* WALLET_OPS_CITUS_META_H */
