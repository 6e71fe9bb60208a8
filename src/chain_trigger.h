/*-------------------------------------------------------------------------
 *
 * chain_trigger.h
 *		The BEFORE INSERT trigger of hash-chained tables and its
 *		per-transaction cache of chain heads (chain_trigger.c).
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_trigger.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_CHAIN_TRIGGER_H
#define WALLET_OPS_CHAIN_TRIGGER_H

#include "postgres.h"

#include "utils/rel.h"

#include "chain_config.h"


/*
 * True when a trigger of that name and type (pg_trigger.tgtype) fires after
 * the chain's trigger on INSERT, row by row, before the row is stored:
 * triggers fire in name order, so such a trigger could change the row after
 * it was hashed, or drop it after it was numbered.
 */
extern bool ChainTriggerFiresAfterOurs(const char *tgname, int16 tgtype);

/*
 * ERROR (55000) when relid or one of its partitions has a trigger, enabled
 * or not, that fires after the chain's (ChainTriggerFiresAfterOurs).
 */
extern void ChainCheckNoLateTriggers(Oid relid);

/*
 * ERROR (55000) when relid, about to be attached to the hash-chained tree
 * of parent, or one of its partitions holds rows: they were never chained
 * by the table's trigger, so their hashes, if any, prove nothing.
 */
extern void ChainCheckNoRowsToAdopt(Oid relid, Oid parent);

/* The ERROR both report: trigger tgname of table relname fires too late. */
extern void ChainReportLateTrigger(int sqlerrcode, const char *tgname,
								   const char *relname);

extern void ChainInstallHooks(void);
extern bool ChainHeadCacheLookup(Oid rootrelid, const char *name,
								 int64 *seq, uint8 *hash);

#endif							/* WALLET_OPS_CHAIN_TRIGGER_H */
