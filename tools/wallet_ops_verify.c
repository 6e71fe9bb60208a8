/*-------------------------------------------------------------------------
 *
 * wallet_ops_verify.c
 *		Recompute a hash-chained table's hashes outside the server.
 *
 * Placeholder: the real verifier lands with the ledger.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  tools/wallet_ops_verify.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "wallet_ops_verify: not implemented yet\n");
	return 2;
}
