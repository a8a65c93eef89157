// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_reload_target - a module whose static (not exported) variable
 * and function a live patch uses through livepatch relocations
 * (test_klp_reload_patch).
 *
 * /proc/test_klp_reload_target	output of test_klp_reload_show():
 *				"test_klp_reload_target: unpatched <secret>
 *				<test_klp_reload_scramble(secret)>"
 *
 * secret=<int>	the value of the static variable (default 1)
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

static int secret = 1;
module_param(secret, int, 0444);
MODULE_PARM_DESC(secret, "value of the static variable the patch reads");

/* Called by the patch through a livepatch relocation. */
static noinline int test_klp_reload_scramble(int v)
{
	return v * 3 + 1;
}

/* Replaced by test_klp_reload_patch. */
static noinline void test_klp_reload_show(struct seq_file *m)
{
	seq_printf(m, "%s: unpatched %d %d\n", KBUILD_MODNAME, secret,
		   test_klp_reload_scramble(secret));
}

static int test_klp_reload_proc_show(struct seq_file *m, void *v)
{
	test_klp_reload_show(m);
	return 0;
}

static int __init test_klp_reload_target_init(void)
{
	if (!proc_create_single(KBUILD_MODNAME, 0444, NULL,
				test_klp_reload_proc_show))
		return -ENOMEM;
	pr_info("module loaded\n");
	return 0;
}

static void __exit test_klp_reload_target_exit(void)
{
	remove_proc_entry(KBUILD_MODNAME, NULL);
	pr_info("module unloaded\n");
}

module_init(test_klp_reload_target_init);
module_exit(test_klp_reload_target_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch selftest: module with static symbols a patch relocates against");
