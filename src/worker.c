/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The background workers of wallet_ops: a launcher, and one
 *		maintenance worker per database where the extension is installed.
 *
 * The launcher is a static worker started when the server is ready for
 * connections (BgWorkerStart_RecoveryFinished: never on a hot standby, at
 * promotion otherwise).  It connects to no database, reads pg_database every
 * wallet_ops.naptime and starts a dynamic worker for each database that
 * allows connections, is not a template, is allowed by wallet_ops.databases
 * and has no worker yet.  The workers register themselves in a small array
 * in shared memory.  A worker whose database turns out not to have the
 * extension marks its slot "no extension" and exits; it is not started again
 * until CREATE EXTENSION wallet_ops (whose script calls _worker_notify())
 * commits in that database and pokes the launcher.  DROP EXTENSION pokes
 * the worker, which then finds the extension gone and exits; DROP DATABASE
 * stops it so that the drop is not refused because of it.
 *
 * Each tick of a worker: one transaction to read the configuration and
 * purge old job_log rows, then one transaction per managed table (each
 * maintained in a subtransaction that catches and records its errors, with
 * DDL waiting at most wallet_ops.lock_timeout), then one for the
 * materialised views.  Any error that escapes is logged, recorded in
 * job_log, and the worker carries on with its next tick.
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

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_database.h"
#include "catalog/pg_extension.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
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
#include "worker.h"

PG_FUNCTION_INFO_V1(wallet_ops_worker_notify);

/* Exported for the postmaster to find them. */
PGDLLEXPORT void WalletOpsLauncherMain(Datum main_arg);
PGDLLEXPORT void WalletOpsWorkerMain(Datum main_arg);

#define WORKER_SLOTS		64
/* A database's worker is not started again sooner than this after a start. */
#define RESTART_DELAY_MS	5000
/* A slot claimed for a worker that never showed up is freed after this. */
#define START_TIMEOUT_MS	60000
/* After DROP DATABASE stopped a worker, its database is left alone so long. */
#define HOLD_AFTER_DROP_MS	10000

typedef struct WorkerSlot
{
	Oid			dboid;			/* InvalidOid: free */
	pid_t		pid;			/* 0 until the worker has started */
	bool		no_extension;	/* the database has no wallet_ops */
	bool		recheck;		/* worker: look for the extension again */
	TimestampTz started;		/* when the launcher started the worker */
	TimestampTz hold_until;		/* do not start before (DROP DATABASE) */
} WorkerSlot;

typedef struct WorkerShared
{
	slock_t		mutex;
	pid_t		launcher_pid;
	Oid			poked_dboid;	/* CREATE EXTENSION committed there */
	WorkerSlot	slots[WORKER_SLOTS];
} WorkerShared;

static WorkerShared *worker_shared = NULL;

#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static object_access_hook_type prev_object_access_hook = NULL;

/* Backend side: pokes to send when the current transaction commits. */
static bool poke_launcher_at_commit = false;
static bool poke_worker_at_commit = false;
static bool xact_callback_registered = false;

/* Worker side */
static int	my_slot = -1;
static char my_dbname[NAMEDATALEN];
static uint32 wait_event_main = 0;

static void worker_shmem_request(void);
static void worker_shmem_startup(void);
static void worker_object_access(ObjectAccessType access, Oid classId,
								 Oid objectId, int subId, void *arg);
static void worker_xact_callback(XactEvent event, void *arg);
static bool launcher_tick(BackgroundWorkerHandle **handles);
static bool database_allowed(const char *dbname);
static bool start_worker(Oid dboid, BackgroundWorkerHandle **handle);
static void worker_detach(int code, Datum arg);
static void launcher_detach(int code, Datum arg);
static bool worker_tick(bool check_only);
static void wait_for(long timeout_ms);
static void record_failure(const char *what, ErrorData *edata);

/* ------------------------------------------------------------------------
 * Registration and shared memory
 * ------------------------------------------------------------------------
 */

void
WalletOpsRegisterLauncher(void)
{
	BackgroundWorker worker;

	/* pg_upgrade starts servers in binary upgrade mode: stay out of it */
	if (IsBinaryUpgrade)
		return;

#if PG_VERSION_NUM >= 150000
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = worker_shmem_request;
#else
	worker_shmem_request();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = worker_shmem_startup;
	prev_object_access_hook = object_access_hook;
	object_access_hook = worker_object_access;

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

static void
worker_shmem_request(void)
{
#if PG_VERSION_NUM >= 150000
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
#endif
	RequestAddinShmemSpace(MAXALIGN(sizeof(WorkerShared)));
}

static void
worker_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	worker_shared = ShmemInitStruct("wallet_ops workers", sizeof(WorkerShared), &found);
	if (!found)
	{
		memset(worker_shared, 0, sizeof(WorkerShared));
		SpinLockInit(&worker_shared->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Slot of dboid, or -1; caller holds the mutex. */
static int
find_slot(Oid dboid)
{
	int			i;

	for (i = 0; i < WORKER_SLOTS; i++)
	{
		if (worker_shared->slots[i].dboid == dboid)
			return i;
	}
	return -1;
}

/* ------------------------------------------------------------------------
 * Backend side: CREATE EXTENSION, DROP EXTENSION and DROP DATABASE
 * ------------------------------------------------------------------------
 */

static void
register_xact_callback(void)
{
	if (!xact_callback_registered)
	{
		RegisterXactCallback(worker_xact_callback, NULL);
		xact_callback_registered = true;
	}
}

/*
 * Called by the install script: once CREATE EXTENSION commits, the launcher
 * starts a worker for this database.  Does nothing when the library was not
 * preloaded (there is no worker then).
 */
Datum
wallet_ops_worker_notify(PG_FUNCTION_ARGS)
{
	if (worker_shared != NULL)
	{
		register_xact_callback();
		poke_launcher_at_commit = true;
	}
	PG_RETURN_VOID();
}

static void
worker_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					 int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (access != OAT_DROP || worker_shared == NULL)
		return;

	if (classId == ExtensionRelationId &&
		objectId == get_extension_oid("wallet_ops", true))
	{
		/* the worker leaves once the drop is committed */
		register_xact_callback();
		poke_worker_at_commit = true;
	}
	else if (classId == DatabaseRelationId)
	{
		int			i;
		pid_t		pid = 0;

		/*
		 * DROP DATABASE refuses to run while other sessions are connected:
		 * stop our worker there and keep the launcher away for a while.
		 */
		SpinLockAcquire(&worker_shared->mutex);
		i = find_slot(objectId);
		if (i >= 0)
		{
			pid = worker_shared->slots[i].pid;
			worker_shared->slots[i].hold_until =
				TimestampTzPlusMilliseconds(GetCurrentTimestamp(), HOLD_AFTER_DROP_MS);
		}
		SpinLockRelease(&worker_shared->mutex);
		if (pid > 0)
			(void) kill(pid, SIGTERM);
	}
}

static void
worker_xact_callback(XactEvent event, void *arg)
{
	int			i;
	pid_t		pid = 0;

	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		poke_launcher_at_commit = false;
		poke_worker_at_commit = false;
		return;
	}
	if (event != XACT_EVENT_COMMIT ||
		(!poke_launcher_at_commit && !poke_worker_at_commit))
		return;

	SpinLockAcquire(&worker_shared->mutex);
	i = find_slot(MyDatabaseId);
	if (poke_launcher_at_commit)
	{
		/*
		 * Forget that this database had no extension.  A worker may still be
		 * finding that out from a snapshot taken before this commit: tell it,
		 * so that it does not leave a marker behind (worker_leave).
		 */
		if (i >= 0 && worker_shared->slots[i].no_extension)
			memset(&worker_shared->slots[i], 0, sizeof(WorkerSlot));
		else if (i >= 0)
			worker_shared->slots[i].recheck = true;
		worker_shared->poked_dboid = MyDatabaseId;
		pid = worker_shared->launcher_pid;
	}
	else if (i >= 0)
	{
		worker_shared->slots[i].recheck = true;
		pid = worker_shared->slots[i].pid;
	}
	SpinLockRelease(&worker_shared->mutex);
	poke_launcher_at_commit = false;
	poke_worker_at_commit = false;

	/* a background worker's SIGUSR1 handler sets its latch */
	if (pid > 0)
		(void) kill(pid, SIGUSR1);
}

/* ------------------------------------------------------------------------
 * The launcher
 * ------------------------------------------------------------------------
 */

static void
launcher_detach(int code, Datum arg)
{
	SpinLockAcquire(&worker_shared->mutex);
	if (worker_shared->launcher_pid == MyProcPid)
		worker_shared->launcher_pid = 0;
	SpinLockRelease(&worker_shared->mutex);
}

void
WalletOpsLauncherMain(Datum main_arg)
{
	BackgroundWorkerHandle *handles[WORKER_SLOTS];
	MemoryContext tick_cxt;
	bool		pending;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* shared catalogs only */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("wallet_ops launcher");

	memset(handles, 0, sizeof(handles));
	SpinLockAcquire(&worker_shared->mutex);
	worker_shared->launcher_pid = MyProcPid;
	SpinLockRelease(&worker_shared->mutex);
	before_shmem_exit(launcher_detach, (Datum) 0);

	tick_cxt = AllocSetContextCreate(TopMemoryContext, "wallet_ops launcher",
									 ALLOCSET_DEFAULT_SIZES);
	ereport(LOG, (errmsg("wallet_ops launcher started")));

	for (;;)
	{
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		old = MemoryContextSwitchTo(tick_cxt);
		pending = launcher_tick(handles);
		MemoryContextSwitchTo(old);
		MemoryContextReset(tick_cxt);

		/* come back sooner when a stopped worker waits for its restart */
		wait_for(pending ? Min((long) wallet_ops_naptime * 1000L, RESTART_DELAY_MS) :
				 (long) wallet_ops_naptime * 1000L);
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

static bool
start_worker(Oid dboid, BackgroundWorkerHandle **handle)
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
	worker.bgw_main_arg = ObjectIdGetDatum(dboid);
	worker.bgw_notify_pid = MyProcPid;

	/* the handle outlives the tick: launcher_tick frees it once stopped */
	old = MemoryContextSwitchTo(TopMemoryContext);
	started = RegisterDynamicBackgroundWorker(&worker, handle);
	MemoryContextSwitchTo(old);
	return started;
}

/* When the launcher last started a worker for each database. */
static Oid	recent_db[WORKER_SLOTS];
static TimestampTz recent_start[WORKER_SLOTS];

static bool
restart_allowed(Oid dboid, TimestampTz now)
{
	int			i;

	for (i = 0; i < WORKER_SLOTS; i++)
	{
		if (recent_db[i] == dboid)
			return TimestampDifferenceExceeds(recent_start[i], now, RESTART_DELAY_MS);
	}
	return true;
}

static void
note_start(Oid dboid, TimestampTz now)
{
	int			i;
	int			oldest = 0;

	for (i = 0; i < WORKER_SLOTS; i++)
	{
		if (recent_db[i] == dboid || !OidIsValid(recent_db[i]))
		{
			oldest = i;
			break;
		}
		if (recent_start[i] < recent_start[oldest])
			oldest = i;
	}
	recent_db[oldest] = dboid;
	recent_start[oldest] = now;
}

/*
 * One pass of the launcher: start a worker for every database that should
 * have one and has none.  handles[i] belongs to slot i.  Returns true when
 * a database still waits for its worker (restart delay, no free slot).
 */
static bool
launcher_tick(BackgroundWorkerHandle **handles)
{
	bool		pending = false;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	List	   *dbs = NIL;
	ListCell   *lc;
	TimestampTz now = GetCurrentTimestamp();
	int			i;
	Oid			poked;
	MemoryContext tick_cxt = CurrentMemoryContext;

	/* a database where the extension was just created waits for nothing */
	SpinLockAcquire(&worker_shared->mutex);
	poked = worker_shared->poked_dboid;
	worker_shared->poked_dboid = InvalidOid;
	SpinLockRelease(&worker_shared->mutex);
	for (i = 0; OidIsValid(poked) && i < WORKER_SLOTS; i++)
	{
		if (recent_db[i] == poked)
			recent_db[i] = InvalidOid;
	}

	/* forget workers that are gone or never started, and expired holds */
	for (i = 0; i < WORKER_SLOTS; i++)
	{
		WorkerSlot *slot = &worker_shared->slots[i];
		pid_t		pid;
		bool		stopped = false;

		if (handles[i] != NULL &&
			GetBackgroundWorkerPid(handles[i], &pid) == BGWH_STOPPED)
		{
			pfree(handles[i]);
			handles[i] = NULL;
			stopped = true;
		}
		SpinLockAcquire(&worker_shared->mutex);
		if (OidIsValid(slot->dboid) && slot->pid == 0 && !slot->no_extension)
		{
			if (slot->hold_until != 0)
			{
				if (slot->hold_until <= now)
					memset(slot, 0, sizeof(WorkerSlot));
			}
			else if (stopped ||
					 (handles[i] == NULL &&
					  TimestampDifferenceExceeds(slot->started, now, START_TIMEOUT_MS)))
				slot->dboid = InvalidOid;
		}
		SpinLockRelease(&worker_shared->mutex);
	}

	if (!RecoveryInProgress())
	{
		StartTransactionCommand();
		(void) GetTransactionSnapshot();
		rel = table_open(DatabaseRelationId, AccessShareLock);
		scan = table_beginscan_catalog(rel, 0, NULL);
		while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
		{
			Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

			/* templates are never connected to: CREATE DATABASE needs them idle */
			if (!db->datallowconn || db->datistemplate)
				continue;
			if (!database_allowed(NameStr(db->datname)))
				continue;
			/* the list is used after the transaction: not in its context */
			{
				MemoryContext old = MemoryContextSwitchTo(tick_cxt);

				dbs = lappend_oid(dbs, db->oid);
				MemoryContextSwitchTo(old);
			}
		}
		table_endscan(scan);
		table_close(rel, AccessShareLock);
		CommitTransactionCommand();
		/* PostgreSQL 17 returns here by itself, 15 to TopMemoryContext */
		MemoryContextSwitchTo(tick_cxt);

		/* markers of databases that are gone or no longer served */
		SpinLockAcquire(&worker_shared->mutex);
		for (i = 0; i < WORKER_SLOTS; i++)
		{
			WorkerSlot *slot = &worker_shared->slots[i];

			if (OidIsValid(slot->dboid) && slot->no_extension &&
				!list_member_oid(dbs, slot->dboid))
				memset(slot, 0, sizeof(WorkerSlot));
		}
		SpinLockRelease(&worker_shared->mutex);
	}

	foreach(lc, dbs)
	{
		Oid			dboid = lfirst_oid(lc);
		int			free_slot = -1;
		bool		start = false;

		SpinLockAcquire(&worker_shared->mutex);
		if (find_slot(dboid) >= 0)
		{
			/* a worker is there, or the database has no extension */
			SpinLockRelease(&worker_shared->mutex);
			continue;
		}
		SpinLockRelease(&worker_shared->mutex);

		/* a worker that stopped is not started again at once */
		if (!restart_allowed(dboid, now))
		{
			pending = true;
			continue;
		}

		SpinLockAcquire(&worker_shared->mutex);
		for (i = 0; i < WORKER_SLOTS && free_slot < 0; i++)
		{
			if (!OidIsValid(worker_shared->slots[i].dboid) && handles[i] == NULL)
				free_slot = i;
		}
		if (free_slot >= 0)
		{
			WorkerSlot *slot = &worker_shared->slots[free_slot];

			memset(slot, 0, sizeof(WorkerSlot));
			slot->dboid = dboid;
			slot->started = now;
			start = true;
		}
		SpinLockRelease(&worker_shared->mutex);

		if (!start)
			pending = true;
		if (start)
			note_start(dboid, now);
		if (start && !start_worker(dboid, &handles[free_slot]))
		{
			ereport(LOG,
					(errmsg("wallet_ops: could not start worker for database %u", dboid),
					 errhint("Raise max_worker_processes.")));
			SpinLockAcquire(&worker_shared->mutex);
			worker_shared->slots[free_slot].dboid = InvalidOid;
			SpinLockRelease(&worker_shared->mutex);
			handles[free_slot] = NULL;
			pending = true;
		}
	}
	return pending;
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
 * The per-database worker
 * ------------------------------------------------------------------------
 */

static void
worker_detach(int code, Datum arg)
{
	if (my_slot < 0)
		return;
	SpinLockAcquire(&worker_shared->mutex);
	if (worker_shared->slots[my_slot].pid == MyProcPid)
	{
		worker_shared->slots[my_slot].pid = 0;

		/*
		 * Keep the slot as a marker when the database has no extension, or
		 * while DROP DATABASE holds the launcher off.
		 */
		if (!worker_shared->slots[my_slot].no_extension &&
			worker_shared->slots[my_slot].hold_until == 0)
			worker_shared->slots[my_slot].dboid = InvalidOid;
	}
	SpinLockRelease(&worker_shared->mutex);
}

/* Leaves quietly: the database has no extension, or is not to be served. */
static void
worker_leave(bool no_extension)
{
	SpinLockAcquire(&worker_shared->mutex);
	/* not when CREATE EXTENSION committed since we looked: start again */
	if (my_slot >= 0 && no_extension && !worker_shared->slots[my_slot].recheck)
		worker_shared->slots[my_slot].no_extension = true;
	SpinLockRelease(&worker_shared->mutex);
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}

void
WalletOpsWorkerMain(Datum main_arg)
{
	Oid			dboid = DatumGetObjectId(main_arg);
	MemoryContext tick_cxt;
	TimestampTz last_tick;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/*
	 * Take the slot the launcher reserved; leave if there is none (the
	 * launcher gave up waiting for us) or another worker has it.
	 */
	SpinLockAcquire(&worker_shared->mutex);
	my_slot = find_slot(dboid);
	if (my_slot >= 0 && worker_shared->slots[my_slot].pid == 0 &&
		!worker_shared->slots[my_slot].no_extension)
		worker_shared->slots[my_slot].pid = MyProcPid;
	else
		my_slot = -1;
	SpinLockRelease(&worker_shared->mutex);
	if (my_slot < 0)
		proc_exit(0);
	before_shmem_exit(worker_detach, (Datum) 0);

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("wallet_ops worker");

	tick_cxt = AllocSetContextCreate(TopMemoryContext, "wallet_ops worker",
									 ALLOCSET_DEFAULT_SIZES);

	/* leave at once if the extension is not installed here */
	MemoryContextSwitchTo(tick_cxt);
	(void) worker_tick(true);
	MemoryContextSwitchTo(TopMemoryContext);
	MemoryContextReset(tick_cxt);
	ereport(LOG,
			(errmsg("wallet_ops worker started for database \"%s\"", my_dbname)));

	/* the first tick comes one naptime after start */
	last_tick = GetCurrentTimestamp();
	for (;;)
	{
		TimestampTz now;
		long		secs;
		int			usecs;
		long		remaining;
		bool		recheck = false;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			/* wallet_ops.databases may have left this database out */
			recheck = true;
		}
		if (my_slot >= 0)
		{
			SpinLockAcquire(&worker_shared->mutex);
			recheck |= worker_shared->slots[my_slot].recheck;
			worker_shared->slots[my_slot].recheck = false;
			SpinLockRelease(&worker_shared->mutex);
		}

		now = GetCurrentTimestamp();
		TimestampDifference(last_tick, now, &secs, &usecs);
		remaining = (long) wallet_ops_naptime * 1000L - (secs * 1000L + usecs / 1000);
		if (remaining <= 0 || recheck)
		{
			MemoryContext old = MemoryContextSwitchTo(tick_cxt);

			if (remaining <= 0)
				last_tick = now;
			(void) worker_tick(remaining > 0);
			MemoryContextSwitchTo(old);
			MemoryContextReset(tick_cxt);
			continue;
		}
		wait_for(remaining);
	}
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
 * Looks up the extension and what the worker should run as; leaves when the
 * extension is gone or the database is no longer to be served.  Returns the
 * role, or InvalidOid when the tick must be skipped.
 */
static Oid
tick_prepare(void)
{
	Oid			role = InvalidOid;
	Oid			owner = InvalidOid;
	bool		have_extension;
	bool		allowed;
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

	allowed = database_allowed(dbname);
	if (!have_extension || !allowed)
	{
		PopActiveSnapshot();
		CommitTransactionCommand();
		if (!have_extension)
			ereport(DEBUG1,
					(errmsg("wallet_ops worker: extension not installed in database \"%s\"", dbname)));
		else
			ereport(LOG,
					(errmsg("wallet_ops worker for database \"%s\" stops: not in wallet_ops.databases",
							dbname)));
		worker_leave(!have_extension);
	}

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
 * One tick; with check_only, only make sure the extension is still there.
 */
static bool
worker_tick(bool check_only)
{
	static Oid	role;
	int			step;
	ActionReport report;

	memset(&report, 0, sizeof(report));
	role = InvalidOid;

	RUN_STEP("tick", {
		role = tick_prepare();
	});
	if (check_only || !wallet_ops_enabled || !OidIsValid(role))
	{
		pgstat_report_activity(STATE_IDLE, NULL);
		return false;
	}

	/*
	 * The steps of run_maintenance() (maintenance.c), each object in a
	 * transaction of its own: locks are released table by table, and readers
	 * see a refreshed view as soon as it is done.
	 */
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

	pgstat_report_activity(STATE_IDLE, NULL);
	return true;
}
