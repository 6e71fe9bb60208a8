/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The background workers of wallet_ops: a launcher, and a bounded
 *		pool of workers that each do one database's tick and leave.
 *
 * The launcher is a static worker started when the server is ready for
 * connections (BgWorkerStart_RecoveryFinished: never on a hot standby, at
 * promotion otherwise).  It connects to no database.  It keeps, in its own
 * memory, every database that allows connections, is not a template and is
 * allowed by wallet_ops.databases, with when its next tick is due and what
 * its last worker found there:
 *
 *	- no extension: never again, until CREATE EXTENSION wakes the launcher;
 *	- nothing that needs the worker at intervals: only when woken (a source
 *	  of a managed view changed, something was managed);
 *	- recurring work: a tick one naptime after the last one started.
 *
 * Whenever one of the wallet_ops.max_workers slots is free, it starts a
 * worker for the database whose tick is the most overdue.  The worker does
 * that tick and exits: no database keeps a connection (CREATE DATABASE ...
 * TEMPLATE works), none waits for a slot another holds while idle, and with
 * D databases and W slots every database gets its tick at least every
 * naptime + (ceil(D / W) + 1) times the longest worker run (docs/worker.md).
 * A database seen for the first time (the launcher started, CREATE
 * EXTENSION, a new database) gets its first tick one naptime later, so that
 * a migration that has just created the extension is not raced.
 *
 * A tick: one transaction to read the configuration, then each object of
 * each maintenance step (maintenance.c) in a transaction of its own, with
 * DDL waiting at most wallet_ops.lock_timeout; any error that escapes is
 * logged and recorded in job_log, and the launcher schedules the next tick
 * as usual.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <unistd.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#if PG_VERSION_NUM >= 140000
#include "utils/backend_status.h"
#include "utils/wait_event.h"
#endif

#include "common.h"
#include "job_log.h"
#include "maintenance.h"
#include "pool.h"
#include "worker.h"

/* Exported for the postmaster to find them. */
PGDLLEXPORT void WalletOpsLauncherMain(Datum main_arg);
PGDLLEXPORT void WalletOpsWorkerMain(Datum main_arg);

/* A failed worker is retried after this, doubled per failure up to naptime. */
#define RETRY_DELAY_MS		5000
/* After a failed start (no free background worker slot), wait this long. */
#define SHORTAGE_RETRY_MS	5000
/* A shortage is over when no start failed for this long. */
#define SHORTAGE_FORGET_MS	600000
/* A slot reserved for a worker that never showed up is freed after this. */
#define START_TIMEOUT_MS	60000

/* The launcher's knowledge of one database. */
typedef struct DatabaseEntry
{
	Oid			dboid;			/* hash key */
	PoolFinding work;			/* what its last worker found; NOTHING: not
								 * known yet */
	TimestampTz due;			/* next tick; 0: none scheduled */
	TimestampTz last_start;		/* when its last worker was started */
	TimestampTz anchor;			/* a regular tick comes one naptime after */
	int64		last_run_ms;	/* how long its last worker ran */
	int			failures;		/* workers in a row that did not report */
	int			slot;			/* its running worker's slot, or -1 */
	bool		woken;			/* woken while its worker ran */
	bool		woken_by_extension;
	bool		listed;			/* in the last scan of pg_database */
} DatabaseEntry;

/* Launcher side */
static HTAB *databases = NULL;
static BackgroundWorkerHandle **handles = NULL;
/* workers running when a shortage began (-1: none), and its last failure */
static int	shortage_running = -1;
static TimestampTz last_start_failure = 0;

/* Worker side */
static int	my_slot = -1;
static char my_dbname[NAMEDATALEN];
static uint32 wait_event_main = 0;

static void launcher_detach(int code, Datum arg);
static void launcher_reap(TimestampTz now);
static void launcher_take_wakes(TimestampTz now, bool *rescan);
static void launcher_scan(TimestampTz now);
static TimestampTz launcher_start_due(TimestampTz now);
static void launcher_publish(void);
static void schedule_wake(DatabaseEntry *db, bool extension_created, TimestampTz now);
static void reschedule_all(void);
static bool database_allowed(const char *dbname);
static void worker_detach(int code, Datum arg);
static PoolFinding worker_tick(void);
static void wait_for(long timeout_ms);
static void record_failure(const char *what, ErrorData *edata);

static inline long
naptime_ms(void)
{
	return (long) wallet_ops_naptime * 1000L;
}

/* ------------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------------
 */

void
WalletOpsRegisterLauncher(void)
{
	BackgroundWorker worker;

	/* pg_upgrade starts servers in binary upgrade mode: stay out of it */
	if (IsBinaryUpgrade)
		return;

	PoolInstall();

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "wallet_ops");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "WalletOpsLauncherMain");
	snprintf(worker.bgw_name, BGW_MAXLEN, "wallet_ops launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "wallet_ops launcher");
	RegisterBackgroundWorker(&worker);
}

/* ------------------------------------------------------------------------
 * The launcher
 * ------------------------------------------------------------------------
 */

static void
launcher_detach(int code, Datum arg)
{
	SpinLockAcquire(&pool_shared->mutex);
	if (pool_shared->launcher_pid == MyProcPid)
		pool_shared->launcher_pid = 0;
	SpinLockRelease(&pool_shared->mutex);
}

void
WalletOpsLauncherMain(Datum main_arg)
{
	HASHCTL		ctl;
	MemoryContext loop_cxt;
	TimestampTz last_scan = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* shared catalogs only */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("wallet_ops launcher");

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(DatabaseEntry);
	databases = hash_create("wallet_ops databases", 64, &ctl, HASH_ELEM | HASH_BLOBS);
	handles = MemoryContextAllocZero(TopMemoryContext,
									 sizeof(BackgroundWorkerHandle *) * pool_shared->nslots);

	SpinLockAcquire(&pool_shared->mutex);
	pool_shared->launcher_pid = MyProcPid;
	pool_shared->launcher_started = GetCurrentTimestamp();
	/* every database is looked at anew: its wake-ups are covered */
	pool_shared->nwakes = 0;
	pool_shared->wake_overflow = false;
	SpinLockRelease(&pool_shared->mutex);
	before_shmem_exit(launcher_detach, (Datum) 0);

	loop_cxt = AllocSetContextCreate(TopMemoryContext, "wallet_ops launcher",
									 ALLOCSET_DEFAULT_SIZES);
	ereport(LOG,
			(errmsg("wallet_ops launcher started with %d worker slots",
					pool_shared->nslots)));

	for (;;)
	{
		MemoryContext old;
		TimestampTz now;
		TimestampTz next;
		bool		rescan = false;
		long		secs;
		int			usecs;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			int			old_naptime = wallet_ops_naptime;

			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			/* wallet_ops.databases may have changed */
			rescan = true;
			if (wallet_ops_naptime != old_naptime)
				reschedule_all();
		}

		old = MemoryContextSwitchTo(loop_cxt);
		now = GetCurrentTimestamp();
		launcher_reap(now);
		launcher_take_wakes(now, &rescan);
		if (rescan || last_scan == 0 ||
			TimestampDifferenceExceeds(last_scan, now, naptime_ms()))
		{
			launcher_scan(now);
			last_scan = now;
		}
		next = launcher_start_due(now);
		launcher_publish();
		MemoryContextSwitchTo(old);
		MemoryContextReset(loop_cxt);

		/* the next scan of pg_database, at the latest */
		next = Min(next, TimestampTzPlusMilliseconds(last_scan, naptime_ms()));
		TimestampDifference(GetCurrentTimestamp(), next, &secs, &usecs);
		wait_for(secs * 1000L + usecs / 1000 + 1);
	}
}

/*
 * Frees the slots of workers that are gone, and schedules their database's
 * next tick from what they found.
 */
static void
launcher_reap(TimestampTz now)
{
	int			i;

	for (i = 0; i < pool_shared->nslots; i++)
	{
		PoolSlot	slot;
		pid_t		pid;
		bool		gone = false;
		DatabaseEntry *db;

		SpinLockAcquire(&pool_shared->mutex);
		slot = pool_shared->slots[i];
		SpinLockRelease(&pool_shared->mutex);
		if (!OidIsValid(slot.dboid))
			continue;

		if (handles[i] != NULL)
		{
			if (GetBackgroundWorkerPid(handles[i], &pid) == BGWH_STOPPED)
			{
				pfree(handles[i]);
				handles[i] = NULL;
				gone = true;
			}
		}
		else
		{
			/* left by an earlier launcher: the worker says when it is done */
			gone = slot.exited ||
				(slot.pid == 0 &&
				 TimestampDifferenceExceeds(slot.started, now, START_TIMEOUT_MS));
		}
		if (!gone)
			continue;

		SpinLockAcquire(&pool_shared->mutex);
		memset(&pool_shared->slots[i], 0, sizeof(PoolSlot));
		SpinLockRelease(&pool_shared->mutex);

		db = hash_search(databases, &slot.dboid, HASH_FIND, NULL);
		if (db == NULL || db->slot != i)
			continue;
		db->slot = -1;
		db->last_run_ms = (now - db->last_start) / 1000;
		switch (slot.finding)
		{
			case POOL_FOUND_NOTHING:
				/* it failed or was stopped: again soon, then less often */
				db->failures++;
				db->due = TimestampTzPlusMilliseconds(now,
													  Min((long) RETRY_DELAY_MS << Min(db->failures - 1, 10),
														  Max(naptime_ms(), RETRY_DELAY_MS)));
				break;
			case POOL_FOUND_NO_EXTENSION:
			case POOL_FOUND_IDLE:
				db->failures = 0;
				db->work = slot.finding;
				db->due = 0;
				break;
			case POOL_FOUND_RECURRING:
				db->failures = 0;
				db->work = slot.finding;
				db->anchor = db->last_start;
				db->due = TimestampTzPlusMilliseconds(db->anchor, naptime_ms());
				break;
		}
		if (db->woken)
		{
			db->woken = false;
			schedule_wake(db, db->woken_by_extension, now);
			db->woken_by_extension = false;
		}
	}
}

/*
 * A database was woken: CREATE EXTENSION there, or something to maintain
 * changed.  Its next tick comes no later than one naptime after its last
 * one started (or after now, for a database not yet known).
 */
static void
schedule_wake(DatabaseEntry *db, bool extension_created, TimestampTz now)
{
	TimestampTz due;

	if (db->slot >= 0)
	{
		/* its running worker may have read too early: decide when it ends */
		db->woken = true;
		db->woken_by_extension |= extension_created;
		return;
	}
	if (extension_created || db->work == POOL_FOUND_NO_EXTENSION)
		db->work = POOL_FOUND_NOTHING;
	if (extension_created || db->last_start == 0)
		due = TimestampTzPlusMilliseconds(now, naptime_ms());
	else
		due = Max(now, TimestampTzPlusMilliseconds(db->last_start, naptime_ms()));
	if (db->due == 0 || due < db->due)
	{
		db->due = due;
		db->anchor = TimestampTzPlusMilliseconds(due, -naptime_ms());
	}
}

/*
 * A new naptime applies at once: a database waiting for the old, longer
 * one gets its tick if the new one has already passed.
 */
static void
reschedule_all(void)
{
	HASH_SEQ_STATUS status;
	DatabaseEntry *db;

	hash_seq_init(&status, databases);
	while ((db = hash_seq_search(&status)) != NULL)
	{
		if (db->due != 0 && db->failures == 0)
			db->due = TimestampTzPlusMilliseconds(db->anchor, naptime_ms());
	}
}

static DatabaseEntry *
database_entry(Oid dboid, TimestampTz now)
{
	DatabaseEntry *db;
	bool		found;

	db = hash_search(databases, &dboid, HASH_ENTER, &found);
	if (!found)
	{
		db->work = POOL_FOUND_NOTHING;
		db->due = TimestampTzPlusMilliseconds(now, naptime_ms());
		db->anchor = now;
		db->last_start = 0;
		db->last_run_ms = 0;
		db->failures = 0;
		db->slot = -1;
		db->woken = false;
		db->woken_by_extension = false;
		db->listed = false;
	}
	return db;
}

static void
launcher_take_wakes(TimestampTz now, bool *rescan)
{
	PoolWake	wakes[POOL_WAKES];
	int			nwakes = 0;
	bool		overflow;
	int			i;

	SpinLockAcquire(&pool_shared->mutex);
	for (i = 0; i < pool_shared->nwakes; i++)
	{
		if (!pool_shared->wakes[i].seen)
		{
			wakes[nwakes++] = pool_shared->wakes[i];
			pool_shared->wakes[i].seen = true;
		}
	}
	overflow = pool_shared->wake_overflow;
	pool_shared->wake_overflow = false;
	SpinLockRelease(&pool_shared->mutex);

	for (i = 0; i < nwakes; i++)
	{
		DatabaseEntry *db;

		db = hash_search(databases, &wakes[i].dboid, HASH_FIND, NULL);
		if (db == NULL)
		{
			/* a database created since the last scan: check it is allowed */
			db = database_entry(wakes[i].dboid, now);
			*rescan = true;
		}
		schedule_wake(db, wakes[i].extension_created, now);
	}
	if (overflow)
	{
		HASH_SEQ_STATUS status;
		DatabaseEntry *db;

		/* more databases woke at once than the list holds: wake them all */
		hash_seq_init(&status, databases);
		while ((db = hash_seq_search(&status)) != NULL)
			schedule_wake(db, false, now);
	}
}

static bool
database_allowed(const char *dbname)
{
	char	   *raw;
	List	   *names;
	ListCell   *lc;
	bool		found = false;

	if (wallet_ops_databases == NULL || wallet_ops_databases[0] == '\0')
		return true;
	raw = pstrdup(wallet_ops_databases);
	if (!SplitGUCList(raw, ',', &names))
	{
		ereport(LOG,
				(errmsg("wallet_ops: invalid list syntax in parameter \"wallet_ops.databases\"")));
		return false;
	}
	foreach(lc, names)
	{
		if (strcmp((char *) lfirst(lc), dbname) == 0)
			found = true;
	}
	return found;
}

/*
 * Brings the list of databases up to date with pg_database: templates and
 * databases that refuse connections are never served (CREATE DATABASE
 * needs its template idle), nor those wallet_ops.databases leaves out.
 */
static void
launcher_scan(TimestampTz now)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	HASH_SEQ_STATUS status;
	DatabaseEntry *db;

	if (RecoveryInProgress())
		return;

	hash_seq_init(&status, databases);
	while ((db = hash_seq_search(&status)) != NULL)
		db->listed = false;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database form = (Form_pg_database) GETSTRUCT(tup);

		if (!form->datallowconn || form->datistemplate)
			continue;
		if (!database_allowed(NameStr(form->datname)))
			continue;
		db = database_entry(form->oid, now);
		db->listed = true;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();

	/* dropped, or no longer to be served; a running worker leaves by itself */
	hash_seq_init(&status, databases);
	while ((db = hash_seq_search(&status)) != NULL)
	{
		if (!db->listed && db->slot < 0)
			(void) hash_search(databases, &db->dboid, HASH_REMOVE, NULL);
	}
}

static bool
start_worker(int slot, Oid dboid)
{
	BackgroundWorker worker;
	MemoryContext old;
	bool		started;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "wallet_ops");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "WalletOpsWorkerMain");
	snprintf(worker.bgw_name, BGW_MAXLEN, "wallet_ops worker for database %u", dboid);
	snprintf(worker.bgw_type, BGW_MAXLEN, "wallet_ops worker");
	worker.bgw_main_arg = Int32GetDatum(slot);
	worker.bgw_notify_pid = MyProcPid;

	/* the handle outlives the loop's memory context */
	old = MemoryContextSwitchTo(TopMemoryContext);
	started = RegisterDynamicBackgroundWorker(&worker, &handles[slot]);
	MemoryContextSwitchTo(old);
	return started;
}

/*
 * Starts workers for the most overdue databases while slots are free.
 * Returns when the launcher must look again at the latest (a worker's exit
 * wakes it sooner).
 */
static TimestampTz
launcher_start_due(TimestampTz now)
{
	TimestampTz next = DT_NOEND;

	if (!wallet_ops_enabled || RecoveryInProgress())
		return next;

	for (;;)
	{
		HASH_SEQ_STATUS status;
		DatabaseEntry *db;
		DatabaseEntry *most_overdue = NULL;
		int			slot = -1;
		int			running;
		int			i;
		bool		held = false;
		bool		shortage_over;

		SpinLockAcquire(&pool_shared->mutex);
		running = 0;
		for (i = 0; i < pool_shared->nslots; i++)
		{
			if (OidIsValid(pool_shared->slots[i].dboid) || handles[i] != NULL)
				running++;
			else if (slot < 0)
				slot = i;
		}
		hash_seq_init(&status, databases);
		while ((db = hash_seq_search(&status)) != NULL)
		{
			if (db->slot >= 0 || db->due == 0 || db->work == POOL_FOUND_NO_EXTENSION)
				continue;
			if (db->due > now)
			{
				next = Min(next, db->due);
				continue;
			}
			if (PoolHeld(db->dboid, now))
			{
				held = true;
				continue;
			}
			if (most_overdue == NULL || db->due < most_overdue->due)
				most_overdue = db;
		}
		SpinLockRelease(&pool_shared->mutex);

		/* a DROP DATABASE keeps it waiting: look again in a second */
		if (held)
			next = Min(next, TimestampTzPlusMilliseconds(now, 1000));
		if (most_overdue == NULL || slot < 0)
			return next;	/* a worker's exit wakes the launcher */

		/* short of slots: no more than then until the next retry */
		if (shortage_running >= 0 && running >= shortage_running &&
			!TimestampDifferenceExceeds(last_start_failure, now, SHORTAGE_RETRY_MS))
			return Min(next, TimestampTzPlusMilliseconds(last_start_failure, SHORTAGE_RETRY_MS));

		SpinLockAcquire(&pool_shared->mutex);
		memset(&pool_shared->slots[slot], 0, sizeof(PoolSlot));
		pool_shared->slots[slot].dboid = most_overdue->dboid;
		pool_shared->slots[slot].started = now;
		SpinLockRelease(&pool_shared->mutex);

		if (!start_worker(slot, most_overdue->dboid))
		{
			handles[slot] = NULL;
			SpinLockAcquire(&pool_shared->mutex);
			memset(&pool_shared->slots[slot], 0, sizeof(PoolSlot));
			pool_shared->start_failures++;
			if (pool_shared->shortage_since == 0)
				pool_shared->shortage_since = now;
			SpinLockRelease(&pool_shared->mutex);
			last_start_failure = now;

			/*
			 * Once per shortage, not at every attempt.  The shortage lasts
			 * until more workers run at once than did when it began.
			 */
			if (shortage_running < 0)
			{
				shortage_running = running;
				ereport(LOG,
						(errmsg("wallet_ops: no background worker slot is free for a wallet_ops worker; databases wait for their maintenance"),
						 errdetail("%d of wallet_ops.max_workers = %d workers run; max_worker_processes is %d, and the launcher, these workers, other extensions and parallel queries share it.",
								   running, pool_shared->nslots, max_worker_processes),
						 errhint("Raise max_worker_processes (needs a restart), or lower wallet_ops.max_workers. The launcher tries again every %d seconds and logs when more workers start.",
								 SHORTAGE_RETRY_MS / 1000)));
			}
			return Min(next, TimestampTzPlusMilliseconds(now, SHORTAGE_RETRY_MS));
		}

		running++;
		/* over, when more run than could, or nothing failed for a while */
		shortage_over = shortage_running >= 0 &&
			(running > shortage_running ||
			 TimestampDifferenceExceeds(last_start_failure, now, SHORTAGE_FORGET_MS));
		SpinLockAcquire(&pool_shared->mutex);
		pool_shared->workers_started++;
		if (shortage_over)
			pool_shared->shortage_since = 0;
		SpinLockRelease(&pool_shared->mutex);
		if (shortage_over)
		{
			shortage_running = -1;
			ereport(LOG,
					(errmsg("wallet_ops: background worker slots are free again: %d wallet_ops workers run",
							running)));
		}

		most_overdue->slot = slot;
		most_overdue->last_start = now;
		most_overdue->due = 0;
	}
}

/* Figures for health() and metrics(). */
static void
launcher_publish(void)
{
	HASH_SEQ_STATUS status;
	DatabaseEntry *db;
	int			known = 0;
	int			recurring = 0;
	int64		longest = 0;

	hash_seq_init(&status, databases);
	while ((db = hash_seq_search(&status)) != NULL)
	{
		if (db->work == POOL_FOUND_NO_EXTENSION)
			continue;
		known++;
		/* not yet visited: may well need ticks */
		if (db->work == POOL_FOUND_RECURRING || db->work == POOL_FOUND_NOTHING)
			recurring++;
		longest = Max(longest, db->last_run_ms);
	}
	SpinLockAcquire(&pool_shared->mutex);
	pool_shared->databases_known = known;
	pool_shared->databases_recurring = recurring;
	pool_shared->longest_tick_ms = longest;
	SpinLockRelease(&pool_shared->mutex);
}

/* Waits for the latch or timeout_ms, whichever comes first. */
static void
wait_for(long timeout_ms)
{
#if PG_VERSION_NUM >= 170000
	if (wait_event_main == 0)
		wait_event_main = WaitEventExtensionNew("WalletOpsMain");
#else
	wait_event_main = PG_WAIT_EXTENSION;
#endif
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 Max(timeout_ms, 1), wait_event_main);
	ResetLatch(MyLatch);
}

/* ------------------------------------------------------------------------
 * A worker: one tick of one database
 * ------------------------------------------------------------------------
 */

static void
worker_detach(int code, Datum arg)
{
	SpinLockAcquire(&pool_shared->mutex);
	if (pool_shared->slots[my_slot].pid == MyProcPid)
	{
		pool_shared->slots[my_slot].pid = 0;
		pool_shared->slots[my_slot].exited = true;
	}
	SpinLockRelease(&pool_shared->mutex);
}

void
WalletOpsWorkerMain(Datum main_arg)
{
	int			slot = DatumGetInt32(main_arg);
	Oid			dboid = InvalidOid;
	PoolFinding finding;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* take the slot the launcher reserved; leave if it gave up waiting */
	SpinLockAcquire(&pool_shared->mutex);
	if (slot >= 0 && slot < pool_shared->nslots &&
		OidIsValid(pool_shared->slots[slot].dboid) &&
		pool_shared->slots[slot].pid == 0 && !pool_shared->slots[slot].exited)
	{
		pool_shared->slots[slot].pid = MyProcPid;
		dboid = pool_shared->slots[slot].dboid;
	}
	SpinLockRelease(&pool_shared->mutex);
	if (!OidIsValid(dboid))
		proc_exit(0);
	my_slot = slot;
	before_shmem_exit(worker_detach, (Datum) 0);

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("wallet_ops worker");

	/* what committed before this is seen by the tick: no need to wake again */
	PoolTakeWakes(dboid);

	SpinLockAcquire(&pool_shared->mutex);
	pool_shared->slots[my_slot].tick_started = GetCurrentTimestamp();
	SpinLockRelease(&pool_shared->mutex);

	finding = worker_tick();

	SpinLockAcquire(&pool_shared->mutex);
	pool_shared->slots[my_slot].tick_finished = GetCurrentTimestamp();
	pool_shared->slots[my_slot].finding = finding;
	SpinLockRelease(&pool_shared->mutex);
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}

/* Records an error that escaped a step of the tick, in its own transaction. */
static void
record_failure(const char *what, ErrorData *edata)
{
	PG_TRY();
	{
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		JobLogRecord(GetCurrentTimestamp(), my_dbname,
					 "worker", what, JOB_ERROR, edata->detail, edata);
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
}

/* Runs step in a transaction of its own; errors are logged and recorded. */
#define RUN_STEP(what, body) \
	do { \
		MemoryContext step_cxt = CurrentMemoryContext; \
		PG_TRY(); \
		{ \
			SetCurrentStatementStartTimestamp(); \
			StartTransactionCommand(); \
			PushActiveSnapshot(GetTransactionSnapshot()); \
			body; \
			PopActiveSnapshot(); \
			CommitTransactionCommand(); \
		} \
		PG_CATCH(); \
		{ \
			ErrorData  *edata; \
			MemoryContextSwitchTo(step_cxt); \
			edata = CopyErrorData(); \
			EmitErrorReport(); \
			FlushErrorState(); \
			AbortCurrentTransaction(); \
			MemoryContextSwitchTo(step_cxt); \
			record_failure(what, edata); \
		} \
		PG_END_TRY(); \
		MemoryContextSwitchTo(step_cxt); \
	} while (0)

/*
 * Looks up the extension, what the worker should run as and whether this
 * database needs ticks at intervals.  Returns the role, or InvalidOid when
 * there is nothing to do here (*finding says why).
 */
static Oid
tick_prepare(PoolFinding *finding)
{
	Oid			role = InvalidOid;
	Oid			owner = InvalidOid;
	bool		have_extension;
	char	   *dbname = get_database_name(MyDatabaseId);

	if (dbname)
		strlcpy(my_dbname, dbname, sizeof(my_dbname));

	SPI_connect();
	if (SPI_execute("SELECT extowner FROM pg_catalog.pg_extension WHERE extname = 'wallet_ops'",
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_extension");
	have_extension = (SPI_processed == 1);
	if (have_extension)
	{
		bool		isnull;

		owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();

	if (!have_extension)
	{
		ereport(DEBUG1,
				(errmsg("wallet_ops worker: extension not installed in database \"%s\"", my_dbname)));
		*finding = POOL_FOUND_NO_EXTENSION;
		return InvalidOid;
	}
	/* the launcher leaves this database out from its next scan on */
	if (!database_allowed(my_dbname) || !wallet_ops_enabled)
	{
		*finding = POOL_FOUND_RECURRING;
		return InvalidOid;
	}

	*finding = MaintenanceNeedsTicks() ? POOL_FOUND_RECURRING : POOL_FOUND_IDLE;

	if (wallet_ops_role && wallet_ops_role[0] != '\0')
	{
		role = get_role_oid(wallet_ops_role, true);
		if (!OidIsValid(role))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("role \"%s\" set in wallet_ops.role does not exist",
							wallet_ops_role),
					 errhint("Set wallet_ops.role to an existing role, or to an empty string for the owner of the extension.")));
	}
	else
		role = owner;
	return role;
}

/*
 * Records the tick in wallet_ops.worker_state, for health(): absent in a
 * database whose extension is still at 1.0.0 (not yet updated).
 */
static void
record_tick(TimestampTz started, TimestampTz finished)
{
	Oid			argtypes[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[2];
	bool		isnull;

	values[0] = TimestampTzGetDatum(started);
	values[1] = TimestampTzGetDatum(finished);
	SPI_connect();
	if (SPI_execute("SELECT pg_catalog.to_regclass('wallet_ops.worker_state') IS NOT NULL",
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look for wallet_ops.worker_state");
	if (SPI_processed == 1 &&
		DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
								   &isnull)))
	{
		if (SPI_execute_with_args("INSERT INTO wallet_ops.worker_state AS s"
								  " (last_tick_started, last_tick_finished, ticks)"
								  " VALUES ($1, $2, 1)"
								  " ON CONFLICT (singleton) DO UPDATE"
								  " SET last_tick_started = excluded.last_tick_started,"
								  "     last_tick_finished = excluded.last_tick_finished,"
								  "     ticks = s.ticks OPERATOR(pg_catalog.+) 1",
								  2, argtypes, values, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not update wallet_ops.worker_state");
	}
	SPI_finish();
}

/*
 * One tick: the steps of run_maintenance() (maintenance.c), each object in
 * a transaction of its own, so that locks are released table by table and
 * readers see a refreshed view as soon as it is done.  Returns what the
 * launcher should know for the next one.
 */
static PoolFinding
worker_tick(void)
{
	static Oid	role;
	static PoolFinding finding;
	TimestampTz started = GetCurrentTimestamp();
	int			step;
	ActionReport report;

	memset(&report, 0, sizeof(report));
	role = InvalidOid;
	/* a tick that fails before it knows is tried again at the usual pace */
	finding = POOL_FOUND_RECURRING;

	RUN_STEP("tick", {
		role = tick_prepare(&finding);
	});
	if (!OidIsValid(role))
		return finding;

	for (step = 0; step < MAINT_NUM_STEPS; step++)
	{
		const char *name = MaintenanceStepName(step);
		char		activity[64];
		List	   *volatile objects = NIL;
		ListCell   *lc;

		snprintf(activity, sizeof(activity), "wallet_ops: %s", name);
		RUN_STEP(name, {
			/* the list must outlive this transaction */
			MemoryContextSwitchTo(step_cxt);
			objects = MaintenanceStepObjects(step, InvalidOid);
		});
		foreach(lc, objects)
		{
			Oid			object = lfirst_oid(lc);

			CHECK_FOR_INTERRUPTS();
			RUN_STEP(name, {
				pgstat_report_activity(STATE_RUNNING, activity);
				MaintenanceStepRun(step, object, GetCurrentTimestamp(), role, &report);
			});
		}
	}

	RUN_STEP("tick", {
		record_tick(started, GetCurrentTimestamp());
	});
	return finding;
}
