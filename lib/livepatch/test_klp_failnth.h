/* SPDX-License-Identifier: GPL-2.0 */
/*
 * test_klp_failnth.h - klp_enable_patch() for the patch modules of
 * test-fault-inject.sh.
 *
 * With CONFIG_FAULT_INJECTION, test_klp_enable_patch() logs the loading
 * task's fail-nth count (/proc/<pid>/fail-nth: allocations left before the
 * one made to fail) right before and right after klp_enable_patch(), which
 * tells the test which allocations of a load are livepatch's; it logs
 * nothing when no failure is armed.  With the module parameter fail_nth=K
 * it arms the count itself: the K-th allocation of klp_enable_patch()
 * fails, whatever the module loader allocated before, and nothing after.
 * The including file defines pr_fmt() as KBUILD_MODNAME ": " fmt.
 */
#ifndef _TEST_KLP_FAILNTH_H
#define _TEST_KLP_FAILNTH_H

#include <linux/livepatch.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>
#include <linux/sched.h>

#ifdef CONFIG_FAULT_INJECTION
static unsigned int fail_nth;
module_param(fail_nth, uint, 0);
MODULE_PARM_DESC(fail_nth, "Fail the N-th allocation of klp_enable_patch() (test-fault-inject.sh)");

static inline void test_klp_failnth_report(const char *when)
{
	if (current->fail_nth)
		pr_info("fail-nth %s klp_enable_patch(): %u\n", when,
			current->fail_nth);
}

static inline int test_klp_enable_patch(struct klp_patch *patch)
{
	int ret;

	if (fail_nth)
		current->fail_nth = fail_nth;
	test_klp_failnth_report("before");
	ret = klp_enable_patch(patch);
	test_klp_failnth_report("after");
	if (fail_nth)
		current->fail_nth = 0;
	return ret;
}
#else
static inline int test_klp_enable_patch(struct klp_patch *patch)
{
	return klp_enable_patch(patch);
}
#endif

#endif /* _TEST_KLP_FAILNTH_H */
