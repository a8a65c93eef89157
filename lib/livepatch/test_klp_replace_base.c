// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_replace_base - a plain (non-replace) patch for the atomic
 * replace tests: /proc/cmdline reads "test_klp_replace_base: cmdline
 * patched" while it is in effect.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/seq_file.h>

static int base_cmdline_show(struct seq_file *m, void *v)
{
	seq_puts(m, KBUILD_MODNAME ": cmdline patched\n");
	return 0;
}

static struct klp_func base_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = base_cmdline_show,
	},
	{ }
};

static struct klp_object base_objs[] = {
	{
		.funcs = base_funcs,
	},
	{ }
};

static struct klp_patch base_patch = {
	.mod = THIS_MODULE,
	.objs = base_objs,
};

static int __init test_klp_replace_base_init(void)
{
	return klp_enable_patch(&base_patch);
}

static void __exit test_klp_replace_base_exit(void)
{
}

module_init(test_klp_replace_base_init);
module_exit(test_klp_replace_base_exit);
MODULE_DESCRIPTION("Livepatch selftest: non-replace patch of cmdline_proc_show()");
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
