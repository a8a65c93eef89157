// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_livepatch2 - a second, independent patch of vmlinux's
 * cmdline_proc_show(), used together with test_klp_livepatch to check that
 * the newest patch wins.  /proc/cmdline reads
 * "test_klp_livepatch2: cmdline replaced" while it is the newest.
 */

#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static int test_klp_livepatch2_cmdline(struct seq_file *m, void *v)
{
	seq_puts(m, KBUILD_MODNAME ": cmdline replaced\n");
	return 0;
}

static struct klp_func test_klp_livepatch2_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = test_klp_livepatch2_cmdline,
	},
	{ }
};

static struct klp_object test_klp_livepatch2_objs[] = {
	{
		/* a NULL name means vmlinux */
		.funcs = test_klp_livepatch2_funcs,
	},
	{ }
};

static struct klp_patch test_klp_livepatch2_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_livepatch2_objs,
};

static int __init test_klp_livepatch2_load(void)
{
	return klp_enable_patch(&test_klp_livepatch2_patch);
}

static void __exit test_klp_livepatch2_unload(void)
{
}

module_init(test_klp_livepatch2_load);
module_exit(test_klp_livepatch2_unload);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: second patch of cmdline_proc_show()");
