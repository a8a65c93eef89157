// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_sysfs - a patch with three objects, for the sysfs and sympos
 * tests: vmlinux (cmdline_proc_show), test_klp_target (greeting) and
 * test_klp_dups, where it replaces only the second test_klp_dup_show()
 * (old_sympos = 2).
 */

#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static int test_klp_sysfs_cmdline(struct seq_file *m, void *v)
{
	seq_puts(m, KBUILD_MODNAME ": cmdline replaced\n");
	return 0;
}

static void test_klp_sysfs_greeting(struct seq_file *m)
{
	seq_puts(m, KBUILD_MODNAME ": patched greeting\n");
}

static void test_klp_sysfs_dup(struct seq_file *m)
{
	seq_puts(m, KBUILD_MODNAME ": second copy replaced\n");
}

static struct klp_func test_klp_sysfs_vmlinux_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = test_klp_sysfs_cmdline,
	},
	{ }
};

static struct klp_func test_klp_sysfs_target_funcs[] = {
	{
		.old_name = "test_klp_target_greeting",
		.new_func = test_klp_sysfs_greeting,
	},
	{ }
};

static struct klp_func test_klp_sysfs_dups_funcs[] = {
	{
		.old_name = "test_klp_dup_show",
		.new_func = test_klp_sysfs_dup,
		.old_sympos = 2,
	},
	{ }
};

static struct klp_object test_klp_sysfs_objs[] = {
	{
		.funcs = test_klp_sysfs_vmlinux_funcs,
	},
	{
		.name = "test_klp_target",
		.funcs = test_klp_sysfs_target_funcs,
	},
	{
		.name = "test_klp_dups",
		.funcs = test_klp_sysfs_dups_funcs,
	},
	{ }
};

static struct klp_patch test_klp_sysfs_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_sysfs_objs,
};

static int __init test_klp_sysfs_init(void)
{
	return klp_enable_patch(&test_klp_sysfs_patch);
}

static void __exit test_klp_sysfs_exit(void)
{
}

module_init(test_klp_sysfs_init);
module_exit(test_klp_sysfs_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: patch with several objects");
