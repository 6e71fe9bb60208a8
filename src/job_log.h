/*-------------------------------------------------------------------------
 *
 * job_log.h
 *		Recording runs of the worker and of run_maintenance() in
 *		wallet_ops.job_log.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/job_log.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_JOB_LOG_H
#define WALLET_OPS_JOB_LOG_H

#include "datatype/timestamp.h"
#include "utils/elog.h"

/*
 * Outcome of one run.  The strings stored in job_log.outcome are
 * "ok", "error", "skipped" and "problems".
 */
typedef enum JobOutcome
{
	JOB_OK,
	JOB_ERROR,
	JOB_SKIPPED,
	JOB_PROBLEMS
} JobOutcome;

/*
 * Insert one row into wallet_ops.job_log.  Must be called inside a
 * transaction; uses SPI and connects itself.  error may be NULL; when it is
 * not, its message, detail and SQLSTATE are stored.
 */
extern void JobLogRecord(TimestampTz started_at, const char *object,
						 const char *kind, const char *action,
						 JobOutcome outcome, const char *detail,
						 const ErrorData *error);

/* Delete rows older than wallet_ops.job_log_retention; returns the count. */
extern uint64 JobLogPurge(void);

#endif							/* WALLET_OPS_JOB_LOG_H */
