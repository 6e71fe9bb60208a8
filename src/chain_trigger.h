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

#define CHAIN_TRIGGER_NAME		"zzz_wallet_ops_hash_chain"

extern void ChainInstallHooks(void);
extern bool ChainHeadCacheLookup(Oid rootrelid, const char *name,
								 int64 *seq, uint8 *hash);

#endif							/* WALLET_OPS_CHAIN_TRIGGER_H */
