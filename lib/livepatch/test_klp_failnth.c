// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_failnth - the vmlinux patch of test-fault-inject.sh: replaces
 * cmdline_proc_show(), so that /proc/cmdline reads
 * "test_klp_failnth: cmdline replaced".
 *
 * Enabled through test_klp_enable_patch() (test_klp_failnth.h), which
 * tells the test which allocations of a load are klp_enable_patch()'s.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

#include "test_klp_failnth.h"

static int test_klp_failnth_cmdline(struct seq_file *m, void *v)
{
	seq_puts(m, KBUILD_MODNAME ": cmdline replaced\n");
	return 0;
}

static struct klp_func test_klp_failnth_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = test_klp_failnth_cmdline,
	},
	{ }
};

static struct klp_object test_klp_failnth_objs[] = {
	{
		.funcs = test_klp_failnth_funcs,
	},
	{ }
};

static struct klp_patch test_klp_failnth_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_failnth_objs,
};

static int __init test_klp_failnth_init(void)
{
	return test_klp_enable_patch(&test_klp_failnth_patch);
}

static void __exit test_klp_failnth_exit(void)
{
}

module_init(test_klp_failnth_init);
module_exit(test_klp_failnth_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: patch for the fault injection test");
