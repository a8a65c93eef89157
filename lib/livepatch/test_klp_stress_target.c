// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_stress_target - the module that test-stress.sh patches while
 * tasks call its functions (see test_klp_stress.h for the functions).
 *
 * /proc/test_klp_stress_target/check	each read calls every function
 *		test_klp_stress_f000 .. f999 once and the pair
 *		TEST_KLP_STRESS_PAIR_CALLS times, checks every result and
 *		prints
 *			calls <n> pair <n> bad <n>
 *			seen <one hex digit per function>
 *			pair <hex digit>
 *		(and the first bad result): all calls, those of the pair,
 *		results that are no version of the function called (or a
 *		mix of the pair's versions), and for each function and for
 *		the pair the mask of the versions the reader saw (bit v - 1
 *		for version v, test_klp_stress_seen()); the reader checks
 *		those against the versions allowed while it read
 * /proc/test_klp_stress_target/versions	one digit per function, the
 *		version the reader runs (1 original, 2, 3; x for a bad
 *		result), then " pair <digit>"
 * /proc/test_klp_stress_target/hold	a read makes one call of the pair
 *		that sleeps in the caller (in its scheduling point, whatever
 *		version of the caller runs) until a write to the parameter
 *		"release" (or hold_secs); prints "released pair <digit>" or
 *		"not released pair <digit>".  The parameter "holders" counts
 *		the sleepers.  A task asleep there keeps a transition of the
 *		pair open for as long as the test wants.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/wait.h>
#include "test_klp_stress.h"

#define TARGET_FUNC(a, b, c)						\
static noinline u32 test_klp_stress_f##a##b##c(void)			\
{									\
	return TEST_KLP_STRESS_VAL(1, TEST_KLP_STRESS_IDX(a, b, c));	\
}

TEST_KLP_STRESS_FOR_EACH(TARGET_FUNC)

#define TARGET_ENTRY(a, b, c)	test_klp_stress_f##a##b##c,
static u32 (*const test_klp_stress_funcs[TEST_KLP_STRESS_NFUNCS])(void) = {
	TEST_KLP_STRESS_FOR_EACH(TARGET_ENTRY)
};

static struct proc_dir_entry *test_klp_stress_dir;

static unsigned int hold_secs = 60;
module_param(hold_secs, uint, 0644);
MODULE_PARM_DESC(hold_secs, "upper bound of a sleep of a reader of the hold file");

static DECLARE_WAIT_QUEUE_HEAD(test_klp_stress_hold_wq);
static atomic_t test_klp_stress_holders = ATOMIC_INIT(0);
static unsigned long test_klp_stress_hold_gen;

static int test_klp_stress_release(const char *val, const struct kernel_param *kp)
{
	WRITE_ONCE(test_klp_stress_hold_gen, test_klp_stress_hold_gen + 1);
	wake_up_all(&test_klp_stress_hold_wq);
	return 0;
}

static const struct kernel_param_ops test_klp_stress_release_ops = {
	.set = test_klp_stress_release,
};
module_param_cb(release, &test_klp_stress_release_ops, NULL, 0200);
MODULE_PARM_DESC(release, "any write wakes the readers of the hold file");

static int test_klp_stress_holders_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&test_klp_stress_holders));
}

static const struct kernel_param_ops test_klp_stress_holders_ops = {
	.get = test_klp_stress_holders_get,
};
module_param_cb(holders, &test_klp_stress_holders_ops, NULL, 0444);
MODULE_PARM_DESC(holders, "readers of the hold file asleep in the caller");

/*
 * The scheduling point of every version of the caller: a cond_resched(),
 * or for a reader of the hold file a sleep until released.
 */
static void test_klp_stress_pause(struct test_klp_stress_req *req)
{
	unsigned long gen;
	long ret;

	if (!req->hold) {
		cond_resched();
		return;
	}
	gen = READ_ONCE(test_klp_stress_hold_gen);
	atomic_inc(&test_klp_stress_holders);
	ret = wait_event_killable_timeout(test_klp_stress_hold_wq,
					  READ_ONCE(test_klp_stress_hold_gen) != gen,
					  (long)hold_secs * HZ);
	atomic_dec(&test_klp_stress_holders);
	req->released = ret > 0;
}

/*
 * The pair.  The callee and the scheduling point are reached through
 * pointers that are read at run time (see struct test_klp_stress_req).
 */
static noinline __noclone u32 test_klp_stress_callee(struct test_klp_stress_req *req)
{
	return TEST_KLP_STRESS_VAL(1, TEST_KLP_STRESS_PAIR);
}

static noinline __noclone u32 test_klp_stress_caller(struct test_klp_stress_req *req)
{
	return test_klp_stress_call(req);
}

static u32 (*test_klp_stress_callee_ptr)(struct test_klp_stress_req *req);
static void (*test_klp_stress_pause_ptr)(struct test_klp_stress_req *req);

static u32 test_klp_stress_pair(unsigned long seq, struct test_klp_stress_req *req)
{
	req->callee = READ_ONCE(test_klp_stress_callee_ptr);
	req->pause = READ_ONCE(test_klp_stress_pause_ptr);
	req->seq = seq;
	return test_klp_stress_caller(req);
}

/* version_char - the version digit of result R of function I, or 'x'. */
static char version_char(u32 r, u32 i)
{
	return test_klp_stress_valid(r, i) ? '0' + TEST_KLP_STRESS_VERSION(r) : 'x';
}

static void report_bad(unsigned long *bad, const char *what, u32 i, u32 r,
		       u32 *first_i, u32 *first_r)
{
	if (!(*bad)++) {
		*first_i = i;
		*first_r = r;
	}
	pr_err_ratelimited("mismatch: %s %u returned %#x\n", what, i, r);
}

static int check_show(struct seq_file *m, void *v)
{
	static const char hex[] = "0123456789abcdef";
	unsigned long calls = 0, pair_calls = 0, bad = 0;
	u32 i, r, first_i = 0, first_r = 0;
	unsigned int pair_seen = 0;
	u8 *seen;

	seen = kzalloc(TEST_KLP_STRESS_NFUNCS, GFP_KERNEL);
	if (!seen)
		return -ENOMEM;
	for (i = 0; i < TEST_KLP_STRESS_NFUNCS; i++) {
		r = test_klp_stress_funcs[i]();
		calls++;
		if (!test_klp_stress_valid(r, i))
			report_bad(&bad, "function", i, r, &first_i, &first_r);
		seen[i] |= test_klp_stress_seen(r, i);
		/* let the task be switched between calls */
		if (i % 100 == 99)
			cond_resched();
	}
	for (i = 0; i < TEST_KLP_STRESS_PAIR_CALLS; i++) {
		struct test_klp_stress_req req = { };

		r = test_klp_stress_pair(i, &req);
		calls++;
		pair_calls++;
		if (!test_klp_stress_valid(r, TEST_KLP_STRESS_PAIR))
			report_bad(&bad, "pair call", i, r, &first_i, &first_r);
		pair_seen |= test_klp_stress_seen(r, TEST_KLP_STRESS_PAIR);
		/* here, outside the caller, the task can be switched */
		if (i % 100 == 99)
			cond_resched();
	}

	seq_printf(m, "calls %lu pair %lu bad %lu\nseen ", calls, pair_calls, bad);
	for (i = 0; i < TEST_KLP_STRESS_NFUNCS; i++)
		seq_putc(m, hex[seen[i]]);
	seq_printf(m, "\npair %x\n", pair_seen);
	if (bad)
		seq_printf(m, "first bad: index %u returned %#x\n", first_i, first_r);
	kfree(seen);
	return 0;
}

static int versions_show(struct seq_file *m, void *v)
{
	struct test_klp_stress_req req = { };
	u32 i;

	for (i = 0; i < TEST_KLP_STRESS_NFUNCS; i++)
		seq_putc(m, version_char(test_klp_stress_funcs[i](), i));
	seq_printf(m, " pair %c\n",
		   version_char(test_klp_stress_pair(0, &req), TEST_KLP_STRESS_PAIR));
	return 0;
}

static int hold_show(struct seq_file *m, void *v)
{
	struct test_klp_stress_req req = { .hold = true };
	u32 r;

	r = test_klp_stress_pair(0, &req);
	seq_printf(m, "%s pair %c\n", req.released ? "released" : "not released",
		   version_char(r, TEST_KLP_STRESS_PAIR));
	return 0;
}

static int __init test_klp_stress_target_init(void)
{
	WRITE_ONCE(test_klp_stress_callee_ptr, test_klp_stress_callee);
	WRITE_ONCE(test_klp_stress_pause_ptr, test_klp_stress_pause);

	test_klp_stress_dir = proc_mkdir(KBUILD_MODNAME, NULL);
	if (!test_klp_stress_dir)
		return -ENOMEM;
	if (!proc_create_single("check", 0444, test_klp_stress_dir, check_show) ||
	    !proc_create_single("versions", 0444, test_klp_stress_dir, versions_show) ||
	    !proc_create_single("hold", 0400, test_klp_stress_dir, hold_show)) {
		proc_remove(test_klp_stress_dir);
		return -ENOMEM;
	}
	return 0;
}

static void __exit test_klp_stress_target_exit(void)
{
	test_klp_stress_release(NULL, NULL);
	proc_remove(test_klp_stress_dir);
}

module_init(test_klp_stress_target_init);
module_exit(test_klp_stress_target_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch selftest: stress target with 1000 small functions");
