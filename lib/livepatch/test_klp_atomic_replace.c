// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_atomic_replace - by default an atomic replace patch that changes
 * /proc/version only ("test_klp_atomic_replace: version patched"), so that
 * everything the patches it replaces had changed goes back to the
 * original code.
 *
 *   replace=N   an ordinary patch, stacked on the ones already enabled
 *   cmdline=Y   also change /proc/cmdline
 *               ("test_klp_atomic_replace: cmdline patched")
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/seq_file.h>

#include "test_klp_failnth.h"

static bool replace = true;
module_param(replace, bool, 0444);
MODULE_PARM_DESC(replace, "Atomically replace the enabled patches (default Y)");

static bool cmdline;
module_param(cmdline, bool, 0444);
MODULE_PARM_DESC(cmdline, "Also patch cmdline_proc_show() (default N)");

static int ar_version_show(struct seq_file *m, void *v)
{
	seq_puts(m, KBUILD_MODNAME ": version patched\n");
	return 0;
}

static int ar_cmdline_show(struct seq_file *m, void *v)
{
	seq_puts(m, KBUILD_MODNAME ": cmdline patched\n");
	return 0;
}

/* cmdline_proc_show comes first so that it can be left out by offset. */
static struct klp_func ar_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = ar_cmdline_show,
	},
	{
		.old_name = "version_proc_show",
		.new_func = ar_version_show,
	},
	{ }
};

static struct klp_object ar_objs[] = {
	{
		.funcs = ar_funcs,
	},
	{ }
};

static struct klp_patch ar_patch = {
	.mod = THIS_MODULE,
	.objs = ar_objs,
};

static int __init klpt_atomic_replace_init(void)
{
	if (!cmdline)
		ar_objs[0].funcs = &ar_funcs[1];
	ar_patch.replace = replace;
	return test_klp_enable_patch(&ar_patch);
}

static void __exit klpt_atomic_replace_exit(void)
{
}

module_init(klpt_atomic_replace_init);
module_exit(klpt_atomic_replace_exit);
MODULE_DESCRIPTION("Livepatch selftest: atomic replace patch of version_proc_show()");
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
