/*-------------------------------------------------------------------------
 *
 * chain_proof.h
 *		Proofs for one chain (chain_proof.c): the inclusion path of a
 *		chain's head in the Merkle tree of a digest, which
 *		wallet_ops_verify prove checks without the other chains.
 *
 * Copyright (c) 2026, wallet_ops developers
 *
 * IDENTIFICATION
 *	  src/chain_proof.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALLET_OPS_CHAIN_PROOF_H
#define WALLET_OPS_CHAIN_PROOF_H

#include "postgres.h"

/*
 * A digest whose merkle_root or chain_count does not match its chains
 * (the problem digest_mismatch of verify_against_digest), raised as an
 * error by chain_proof; class WO as the signature outcomes of
 * digest_sign.h (WO001-WO003).
 */
#define ERRCODE_WALLET_OPS_DIGEST_MISMATCH	MAKE_SQLSTATE('W','O','0','0','4')

#endif							/* WALLET_OPS_CHAIN_PROOF_H */
