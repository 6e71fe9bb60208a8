/*-------------------------------------------------------------------------
 *
 * ops.h
 *		What operators look at and run: wallet_ops.status, health(),
 *		metrics() (ops.c), scheduled and incremental verification of hash
 *		chains, and verified replay (ops_verify.c).
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/ops.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_OPS_H
#define WALLET_OPS_OPS_H

#include "lib/stringinfo.h"

#include "maintenance.h"

/*
 * Appends s to buf escaped as a Prometheus label value (backslash, double
 * quote and line feed escaped), or, with for_help, as HELP text (backslash
 * and line feed escaped).
 */
extern void OpsPromEscape(StringInfo buf, const char *s, bool for_help);

/*
 * The verification part of a maintenance pass (ops_verify.c): runs every
 * scheduled verification that is due, or only_relid's when valid, each in
 * a subtransaction of its own, recording outcomes in job_log.
 */
extern void VerificationRunScheduled(Oid only_relid, MaintenanceReport *report);

/* Whether relid's verification is scheduled (ops_verify.c). */
extern bool VerificationIsScheduled(Oid relid);

#endif							/* WALLET_OPS_OPS_H */
