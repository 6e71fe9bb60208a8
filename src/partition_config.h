/*-------------------------------------------------------------------------
 *
 * partition_config.h
 *		The rows of wallet_ops.partition_config: which tables have their
 *		partitions managed, how, and how their last run went.
 *
 * partition_config.c is the only file that reads or writes that table.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/partition_config.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_PARTITION_CONFIG_H
#define WALLET_OPS_PARTITION_CONFIG_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "pgtime.h"
#include "utils/elog.h"

#include "common.h"

/* The length of one partition's range. */
typedef enum PartPeriod
{
	PERIOD_DAY,
	PERIOD_WEEK,
	PERIOD_MONTH,
	PERIOD_QUARTER,
	PERIOD_YEAR
} PartPeriod;

/* One row of wallet_ops.partition_config. */
typedef struct PartConfig
{
	Oid			relid;
	PartPeriod	period;
	int			premake;
	bool		has_retention;
	Interval	retention;
	char	   *time_zone;
	pg_tz	   *tz;
	bool		keep_detached;
} PartConfig;

/* The headline figures of a successful run, kept for wallet_ops.status. */
typedef struct PartRunFigures
{
	int64		default_rows;	/* left in the default partition */
	bool		has_runway;
	TimestampTz runway;			/* end of the partitions made ahead */
} PartRunFigures;

/*
 * The relids of every managed table, in a stable order.  Must be called
 * inside a transaction; the list is allocated in the current memory context.
 */
extern List *PartitionsManagedTables(void);

/* True when relid's partitions are managed with a retention. */
extern bool PartitionsHaveRetention(Oid relid);

/* The name of period, as stored in partition_config and shown to users. */
extern const char *PartitionConfigPeriodName(PartPeriod period);

/*
 * Fills cfg from the arguments of manage_partitions(), refusing invalid
 * ones; retention is NULL for none.  Stores nothing.
 */
extern void PartitionConfigInit(PartConfig *cfg, Oid relid,
								const char *period, int premake,
								const Interval *retention,
								const char *time_zone, bool keep_detached);

/*
 * The configuration of relid, allocated in the current memory context;
 * NULL when relid is not managed.
 */
extern PartConfig *PartitionConfigRead(Oid relid);

/* Stores cfg as a new row: relid starts being managed. */
extern void PartitionConfigInsert(const PartConfig *cfg);

/* Removes relid's row; false when it had none. */
extern bool PartitionConfigDelete(Oid relid);

/*
 * Records the outcome of one run (result "ok", "skipped" or "error");
 * figures is NULL when the run failed.
 */
extern void PartitionConfigRecord(Oid relid, const char *result,
								  const ErrorData *error,
								  const PartRunFigures *figures);

/*
 * Removes the row of a table that no longer exists, and says so in job_log
 * and in report.
 */
extern void PartitionConfigForgetDropped(Oid relid, ActionReport *report,
										 TimestampTz started);

#endif							/* WALLET_OPS_PARTITION_CONFIG_H */
