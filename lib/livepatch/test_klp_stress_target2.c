// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_stress_target2 - the module that test-stress.sh loads and
 * unloads in a loop while patches of it are enabled, disabled and in
 * transition (so that the patches are applied to it and taken off it as it
 * comes and goes).
 *
 * /proc/test_klp_stress_target2/check	each read calls
 *		test_klp_stress_mod2_val() TEST_KLP_STRESS_MOD2_CALLS times,
 *		checks every result and prints "calls <n> bad <n> seen <hex>"
 *		(seen: the mask of the versions the reader saw, bit v - 1 for
 *		version v)
 * /proc/test_klp_stress_target2/version	the version the reader runs
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include "test_klp_stress.h"

static struct proc_dir_entry *test_klp_stress2_dir;

/* Replaced by test_klp_stress_consist (version 2) and _cum (version 3). */
static noinline u32 test_klp_stress_mod2_val(void)
{
	return TEST_KLP_STRESS_VAL(1, TEST_KLP_STRESS_MOD2);
}

static int check_show(struct seq_file *m, void *v)
{
	unsigned long bad = 0;
	unsigned int seen = 0;
	u32 i, r, first = 0;

	for (i = 0; i < TEST_KLP_STRESS_MOD2_CALLS; i++) {
		r = test_klp_stress_mod2_val();
		if (!test_klp_stress_valid(r, TEST_KLP_STRESS_MOD2) && !bad++)
			first = r;
		seen |= test_klp_stress_seen(r, TEST_KLP_STRESS_MOD2);
	}
	if (bad)
		pr_err_ratelimited("mismatch: test_klp_stress_mod2_val() returned %#x\n",
				   first);
	seq_printf(m, "calls %u bad %lu seen %x\n", TEST_KLP_STRESS_MOD2_CALLS,
		   bad, seen);
	if (bad)
		seq_printf(m, "first bad: returned %#x\n", first);
	return 0;
}

static int version_show(struct seq_file *m, void *v)
{
	u32 r = test_klp_stress_mod2_val();

	if (test_klp_stress_valid(r, TEST_KLP_STRESS_MOD2))
		seq_printf(m, "%u\n", TEST_KLP_STRESS_VERSION(r));
	else
		seq_puts(m, "x\n");
	return 0;
}

static int __init test_klp_stress_target2_init(void)
{
	test_klp_stress2_dir = proc_mkdir(KBUILD_MODNAME, NULL);
	if (!test_klp_stress2_dir)
		return -ENOMEM;
	if (!proc_create_single("check", 0444, test_klp_stress2_dir, check_show) ||
	    !proc_create_single("version", 0444, test_klp_stress2_dir, version_show)) {
		proc_remove(test_klp_stress2_dir);
		return -ENOMEM;
	}
	return 0;
}

static void __exit test_klp_stress_target2_exit(void)
{
	proc_remove(test_klp_stress2_dir);
}

module_init(test_klp_stress_target2_init);
module_exit(test_klp_stress_target2_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch selftest: stress target loaded and unloaded in a loop");
