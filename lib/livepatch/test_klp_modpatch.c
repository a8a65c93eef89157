// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_modpatch - patches test_klp_target_greeting() in the module
 * test_klp_target, whether that module is loaded before or after this patch.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

#include "test_klp_failnth.h"

static void test_klp_modpatch_greeting(struct seq_file *m)
{
	seq_puts(m, KBUILD_MODNAME ": patched greeting\n");
}

static struct klp_func test_klp_modpatch_funcs[] = {
	{
		.old_name = "test_klp_target_greeting",
		.new_func = test_klp_modpatch_greeting,
	},
	{ }
};

static struct klp_object test_klp_modpatch_objs[] = {
	{
		.name = "test_klp_target",
		.funcs = test_klp_modpatch_funcs,
	},
	{ }
};

static struct klp_patch test_klp_modpatch_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_modpatch_objs,
};

static int __init test_klp_modpatch_init(void)
{
	return test_klp_enable_patch(&test_klp_modpatch_patch);
}

static void __exit test_klp_modpatch_exit(void)
{
}

module_init(test_klp_modpatch_init);
module_exit(test_klp_modpatch_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: patch a function of a module");
