// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_twotargets - a patch of two modules: test_klp_target_hold() in
 * test_klp_target, so that a reader sleeping in the original keeps the
 * patching transition open, and test_klp_target2_greeting() in
 * test_klp_target2, which can come and go meanwhile.
 *
 * bad_name=1: the test_klp_target2 entry names a function that module does
 * not have, which only shows when test_klp_target2 loads.
 */

#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/string.h>

static bool bad_name;
module_param(bad_name, bool, 0444);
MODULE_PARM_DESC(bad_name, "name a function test_klp_target2 does not have");

static void test_klp_twotargets_hold(struct seq_file *m)
{
	seq_puts(m, KBUILD_MODNAME ": not held\n");
}

/* As in test_klp_target2.c. */
struct test_klp_target2_res {
	char text[64];
};

static void test_klp_twotargets_greeting(struct test_klp_target2_res *res)
{
	strscpy(res->text, KBUILD_MODNAME ": patched greeting",
		sizeof(res->text));
}

static struct klp_func test_klp_twotargets_funcs[] = {
	{
		.old_name = "test_klp_target_hold",
		.new_func = test_klp_twotargets_hold,
	},
	{ }
};

static struct klp_func test_klp_twotargets_funcs2[] = {
	{
		.old_name = "test_klp_target2_greeting",
		.new_func = test_klp_twotargets_greeting,
	},
	{ }
};

static struct klp_object test_klp_twotargets_objs[] = {
	{
		.name = "test_klp_target",
		.funcs = test_klp_twotargets_funcs,
	},
	{
		.name = "test_klp_target2",
		.funcs = test_klp_twotargets_funcs2,
	},
	{ }
};

static struct klp_patch test_klp_twotargets_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_twotargets_objs,
};

static int __init test_klp_twotargets_init(void)
{
	if (bad_name)
		test_klp_twotargets_funcs2[0].old_name = "test_klp_target2_missing";
	return klp_enable_patch(&test_klp_twotargets_patch);
}

static void __exit test_klp_twotargets_exit(void)
{
}

module_init(test_klp_twotargets_init);
module_exit(test_klp_twotargets_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: patch of two modules");
