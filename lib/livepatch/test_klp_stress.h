/* SPDX-License-Identifier: GPL-2.0 */
/*
 * test_klp_stress.h - what the modules of test-stress.sh share.
 *
 * The target module test_klp_stress_target has TEST_KLP_STRESS_NFUNCS
 * functions test_klp_stress_f000 .. test_klp_stress_f999; version v of
 * function i (v = 1 the original, 2 and 3 the patches) returns
 * TEST_KLP_STRESS_VAL(v, i).  A result with another index or version is a
 * mismatch: a call that reached a function it was not meant to reach.
 *
 * The consistency pair test_klp_stress_caller() / test_klp_stress_callee()
 * of the same module: the patched caller hands the patched callee a token
 * in a shadow variable of the request; a patched callee that finds no
 * token, or a patched caller whose callee did not confirm it, returns a
 * TEST_KLP_STRESS_MIX_* value.  A task that sees one of those ran versions
 * of one patch mixed with versions of another (or with the originals).
 * Every version of the caller goes through test_klp_stress_call(): a
 * scheduling point (req->pause) between its entry and the call of the
 * callee, and a store after that call, so that the call is never a tail
 * call and the caller stays on the stack while the callee runs.  A task
 * can then be preempted or put to sleep inside any caller, and one whose
 * switch the implementation got wrong would run an old caller with a new
 * callee or the reverse.
 *
 * test_klp_stress_target2 has one function, test_klp_stress_mod2_val(),
 * with the index TEST_KLP_STRESS_MOD2.
 */
#ifndef _TEST_KLP_STRESS_H
#define _TEST_KLP_STRESS_H

#include <linux/compiler.h>
#include <linux/livepatch.h>
#include <linux/types.h>

#define TEST_KLP_STRESS_NFUNCS	1000
/* Calls of the pair per read of /proc/test_klp_stress_target/check. */
#define TEST_KLP_STRESS_PAIR_CALLS	1000
/* Calls of test_klp_stress_mod2_val() per read of its check file. */
#define TEST_KLP_STRESS_MOD2_CALLS	20

#define TEST_KLP_STRESS_VAL(v, i)	(((u32)(v) << 16) | (u32)(i))
#define TEST_KLP_STRESS_VERSION(r)	((r) >> 16)
#define TEST_KLP_STRESS_INDEX(r)	((r) & 0xffff)

/* Indexes of the pair and of the function of test_klp_stress_target2. */
#define TEST_KLP_STRESS_PAIR	0xfff0
#define TEST_KLP_STRESS_MOD2	0xfff1

/* The pair's results when versions were mixed (never valid). */
#define TEST_KLP_STRESS_MIX_CALLEE	TEST_KLP_STRESS_VAL(0xe1, TEST_KLP_STRESS_PAIR)
#define TEST_KLP_STRESS_MIX_CALLER	TEST_KLP_STRESS_VAL(0xe2, TEST_KLP_STRESS_PAIR)
#define TEST_KLP_STRESS_NOMEM		TEST_KLP_STRESS_VAL(0xe3, TEST_KLP_STRESS_PAIR)

/* Shadow variable ids of the pair's versions 2 and 3. */
#define TEST_KLP_STRESS_SHADOW_V2	0x57e552
#define TEST_KLP_STRESS_SHADOW_V3	0x57e553

/*
 * What the caller passes to the callee (through req->callee).  The
 * function pointers are read at run time, so that the compiler cannot
 * specialise a caller for them.
 */
struct test_klp_stress_req {
	u32 (*callee)(struct test_klp_stress_req *req);
	/* called by every caller before the callee: a scheduling point */
	void (*pause)(struct test_klp_stress_req *req);
	unsigned long seq;
	/* the callee's result, stored by the caller after the call */
	u32 ret;
	/* pause() sleeps until released (see the target's hold file) */
	bool hold;
	/* set by pause() when such a sleep ended with a release */
	bool released;
};

/* test_klp_stress_valid - is R a result version 1, 2 or 3 of function I? */
static inline bool test_klp_stress_valid(u32 r, u32 i)
{
	u32 v = TEST_KLP_STRESS_VERSION(r);

	return TEST_KLP_STRESS_INDEX(r) == i && v >= 1 && v <= 3;
}

/*
 * test_klp_stress_seen - the bit of result R of function I in a mask of the
 * versions a reader saw (bit v - 1 for version v), 0 for a bad result.
 */
static inline unsigned int test_klp_stress_seen(u32 r, u32 i)
{
	return test_klp_stress_valid(r, i) ? 1U << (TEST_KLP_STRESS_VERSION(r) - 1) : 0;
}

/*
 * TEST_KLP_STRESS_FOR_EACH(M) expands to M(a, b, c) for every three-digit
 * index abc from 000 to 999; TEST_KLP_STRESS_FOR_CUM(M) for 000 to 009,
 * the functions the cumulative patch keeps.  (TEST_KLP_STRESS_EXPAND()
 * just returns its arguments: it keeps each list one expression.)
 */
#define TEST_KLP_STRESS_EXPAND(...)	__VA_ARGS__
#define TEST_KLP_STRESS_REP10(M, a, b) TEST_KLP_STRESS_EXPAND(		\
	M(a, b, 0) M(a, b, 1) M(a, b, 2) M(a, b, 3) M(a, b, 4)		\
	M(a, b, 5) M(a, b, 6) M(a, b, 7) M(a, b, 8) M(a, b, 9))
#define TEST_KLP_STRESS_REP100(M, a) TEST_KLP_STRESS_EXPAND(		\
	TEST_KLP_STRESS_REP10(M, a, 0) TEST_KLP_STRESS_REP10(M, a, 1)	\
	TEST_KLP_STRESS_REP10(M, a, 2) TEST_KLP_STRESS_REP10(M, a, 3)	\
	TEST_KLP_STRESS_REP10(M, a, 4) TEST_KLP_STRESS_REP10(M, a, 5)	\
	TEST_KLP_STRESS_REP10(M, a, 6) TEST_KLP_STRESS_REP10(M, a, 7)	\
	TEST_KLP_STRESS_REP10(M, a, 8) TEST_KLP_STRESS_REP10(M, a, 9))
#define TEST_KLP_STRESS_FOR_EACH(M) TEST_KLP_STRESS_EXPAND(		\
	TEST_KLP_STRESS_REP100(M, 0) TEST_KLP_STRESS_REP100(M, 1)	\
	TEST_KLP_STRESS_REP100(M, 2) TEST_KLP_STRESS_REP100(M, 3)	\
	TEST_KLP_STRESS_REP100(M, 4) TEST_KLP_STRESS_REP100(M, 5)	\
	TEST_KLP_STRESS_REP100(M, 6) TEST_KLP_STRESS_REP100(M, 7)	\
	TEST_KLP_STRESS_REP100(M, 8) TEST_KLP_STRESS_REP100(M, 9))
#define TEST_KLP_STRESS_FOR_CUM(M)	TEST_KLP_STRESS_REP10(M, 0, 0)
#define TEST_KLP_STRESS_NCUM		10

#define TEST_KLP_STRESS_IDX(a, b, c)	((a) * 100 + (b) * 10 + (c))
#define TEST_KLP_STRESS_NAME(a, b, c)	"test_klp_stress_f" #a #b #c

/*
 * test_klp_stress_call - the part of every version of the caller around its
 * call of the callee: the scheduling point, the call, and a store of the
 * result after it (which keeps the call from becoming a tail call).
 */
static __always_inline u32 test_klp_stress_call(struct test_klp_stress_req *req)
{
	u32 ret;

	req->pause(req);
	ret = req->callee(req);
	WRITE_ONCE(req->ret, ret);
	return ret;
}

/*
 * The patched pair, version V with shadow id ID: the caller attaches the
 * token V to the request, calls the callee (whichever version this task
 * runs) and checks that the callee understood it.
 */
static inline u32 test_klp_stress_new_caller(struct test_klp_stress_req *req,
					     u32 v, unsigned long id)
{
	u32 *token, ret;

	token = klp_shadow_alloc(req, id, sizeof(*token), GFP_KERNEL, NULL, NULL);
	if (!token)
		return TEST_KLP_STRESS_NOMEM;
	*token = v;
	ret = test_klp_stress_call(req);
	klp_shadow_free(req, id, NULL);

	if (ret != TEST_KLP_STRESS_VAL(v, TEST_KLP_STRESS_PAIR))
		return TEST_KLP_STRESS_MIX_CALLER;
	return ret;
}

static inline u32 test_klp_stress_new_callee(struct test_klp_stress_req *req,
					     u32 v, unsigned long id)
{
	u32 *token = klp_shadow_get(req, id);

	if (!token || *token != v)
		return TEST_KLP_STRESS_MIX_CALLEE;
	return TEST_KLP_STRESS_VAL(v, TEST_KLP_STRESS_PAIR);
}

#endif /* _TEST_KLP_STRESS_H */
