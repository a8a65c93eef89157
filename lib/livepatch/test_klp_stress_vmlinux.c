// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_stress_vmlinux - replaces vmlinux's cmdline_proc_show(), so that
 * /proc/cmdline reads "test_klp_stress_vmlinux: cmdline v2".
 */

#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static int test_klp_stress_vmlinux_cmdline(struct seq_file *m, void *v)
{
	seq_puts(m, KBUILD_MODNAME ": cmdline v2\n");
	return 0;
}

static struct klp_func test_klp_stress_vmlinux_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = test_klp_stress_vmlinux_cmdline,
	},
	{ }
};

static struct klp_object test_klp_stress_vmlinux_objs[] = {
	{
		/* vmlinux */
		.funcs = test_klp_stress_vmlinux_funcs,
	},
	{ }
};

static struct klp_patch test_klp_stress_vmlinux_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_stress_vmlinux_objs,
};

static int __init test_klp_stress_vmlinux_init(void)
{
	return klp_enable_patch(&test_klp_stress_vmlinux_patch);
}

static void __exit test_klp_stress_vmlinux_exit(void)
{
}

module_init(test_klp_stress_vmlinux_init);
module_exit(test_klp_stress_vmlinux_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: stress patch of cmdline_proc_show()");
