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

/*
 * Appends s to buf escaped as a Prometheus label value (backslash, double
 * quote and line feed escaped), or, with for_help, as HELP text (backslash
 * and line feed escaped).
 */
extern void OpsPromEscape(StringInfo buf, const char *s, bool for_help);

#endif							/* WALLET_OPS_OPS_H */
