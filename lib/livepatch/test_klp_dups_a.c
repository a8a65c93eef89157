// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_dups - a target module with two static functions of the same
 * name, test_klp_dup_show(), one in each of its two source files.  Patches
 * must pick one with old_sympos.  /proc/test_klp_dups prints both outputs.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include "test_klp_dups.h"

static noinline void test_klp_dup_show(struct seq_file *m)
{
	seq_puts(m, "test_klp_dups: first copy\n");
}

static int test_klp_dups_show(struct seq_file *m, void *v)
{
	test_klp_dup_show(m);
	test_klp_dups_second(m);
	return 0;
}

static int __init test_klp_dups_init(void)
{
	if (!proc_create_single(KBUILD_MODNAME, 0444, NULL, test_klp_dups_show))
		return -ENOMEM;
	pr_info("module loaded\n");
	return 0;
}

static void __exit test_klp_dups_exit(void)
{
	remove_proc_entry(KBUILD_MODNAME, NULL);
	pr_info("module unloaded\n");
}

module_init(test_klp_dups_init);
module_exit(test_klp_dups_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch selftest: module with a duplicated static symbol");
