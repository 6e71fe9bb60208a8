/*-------------------------------------------------------------------------
 *
 * partitions.h
 *		Partitions made ahead of time: wallet_ops.manage_partitions(),
 *		unmanage_partitions() and the partition part of run_maintenance().
 *
 * A managed table is range-partitioned on one timestamptz, timestamp or
 * date column.  Maintenance keeps the current period and `premake` periods
 * ahead of it present, keeps a default partition, moves rows that landed in
 * the default partition into the partitions made for them, and drops (or
 * detaches) partitions older than the retention.  Period starts are computed
 * in the table's configured time zone, never the session's.
 *
 * Which tables are managed is asked of partition_config.h; what a table
 * needs is worked out by partition_plan.h; this is what carries it out.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/partitions.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_PARTITIONS_H
#define WALLET_OPS_PARTITIONS_H

#include "datatype/timestamp.h"

#include "common.h"

/* manage_partitions() or maintenance of a Citus table not hash-distributed */
#define ERRCODE_WALLET_OPS_PARTITIONS_ON_CITUS	MAKE_SQLSTATE('W','O','0','1','2')
/* rows in the default partition of a distributed table, to be moved */
#define ERRCODE_WALLET_OPS_DEFAULT_ROWS_ON_CITUS	MAKE_SQLSTATE('W','O','0','1','4')
/* a retention on an append-only distributed table */
#define ERRCODE_WALLET_OPS_RETENTION_ON_CITUS	MAKE_SQLSTATE('W','O','0','1','5')

/*
 * Maintain one managed table as of `at`: in a subtransaction of its own,
 * with DDL waiting at most wallet_ops.lock_timeout for its locks.  Errors
 * are caught, recorded in wallet_ops.job_log and in partition_config, and
 * counted in report->errors; they never propagate.  When as_role is valid,
 * the DDL runs as that role (bookkeeping as the current user).  Returns false when the
 * table was skipped or failed.
 */
extern bool PartitionsMaintainTable(Oid relid, TimestampTz at, Oid as_role,
									ActionReport *report);

#endif							/* WALLET_OPS_PARTITIONS_H */
