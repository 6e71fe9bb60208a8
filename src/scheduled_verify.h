/*-------------------------------------------------------------------------
 *
 * scheduled_verify.h
 *		What operators look at and run: wallet_ops.status, health(),
 *		metrics() (metrics.c), scheduled and incremental verification of hash
 *		chains, and verified replay .
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/scheduled_verify.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_SCHEDULED_VERIFY_H
#define WALLET_OPS_SCHEDULED_VERIFY_H

#include "common.h"

/*
 * The verification part of a maintenance pass: runs every
 * scheduled verification that is due, or only_relid's when valid, each in
 * a subtransaction of its own, recording outcomes in job_log.
 */
extern void VerificationRunScheduled(Oid only_relid, ActionReport *report);

/* Whether relid's verification is scheduled; whether any table's is. */
extern bool VerificationIsScheduled(Oid relid);
extern bool VerificationAnyScheduled(void);

#endif							/* WALLET_OPS_SCHEDULED_VERIFY_H */
