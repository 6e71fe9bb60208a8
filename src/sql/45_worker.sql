
-- ---------------------------------------------------------------------------
-- The worker (contract section 5): once CREATE EXTENSION commits, the
-- launcher starts a worker for this database at once instead of at its next
-- tick.  Does nothing when the library is not preloaded.
-- ---------------------------------------------------------------------------
CREATE FUNCTION wallet_ops._worker_notify()
RETURNS void
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'wallet_ops_worker_notify';

REVOKE ALL ON FUNCTION wallet_ops._worker_notify() FROM PUBLIC;

SELECT wallet_ops._worker_notify();
