/*-------------------------------------------------------------------------
 *
 * chain_verify_since.h
 *		Incremental verification of a hash chain from a digest
 *		(chain_verify_since.c), and where the problems it finds go.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_verify_since.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_CHAIN_VERIFY_SINCE_H
#define WALLET_OPS_CHAIN_VERIFY_SINCE_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

/* problems quoted in job_log and in the WARNING */
#define PROBLEMS_QUOTED	5

/* Where problems go: a tuplestore (SQL functions) and/or a count. */
typedef struct ProblemSink
{
	Tuplestorestate *tupstore;
	TupleDesc	tupdesc;
	uint64		count;
	StringInfoData first;		/* the first PROBLEMS_QUOTED, for logs */
	MemoryContext cxt;			/* where first lives */
} ProblemSink;

extern void ProblemSinkEmit(ProblemSink *sink, const char *chain, int64 seq,
							bool seq_null, const char *problem, const char *detail);
extern void ProblemSinkInitSRF(FunctionCallInfo fcinfo, ProblemSink *sink);

/*
 * Verifies what was added to relid since digest was taken; returns the
 * number of rows read, -1 when not known (a distributed table, verified on
 * its shards).  Caller is connected to SPI.
 */
extern int64 ChainVerifySince(Oid relid, Jsonb *digest, ProblemSink *sink);

#endif							/* WALLET_OPS_CHAIN_VERIFY_SINCE_H */
