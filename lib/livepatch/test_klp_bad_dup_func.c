// SPDX-License-Identifier: GPL-2.0
/* test_klp_bad_dup_func - the same function listed twice in one object */

#include "test_klp_bad.h"

static struct klp_func test_klp_bad_dup_func_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = test_klp_bad_cmdline,
	},
	{
		.old_name = "cmdline_proc_show",
		.new_func = test_klp_bad_cmdline,
	},
	{ }
};

static struct klp_object test_klp_bad_dup_func_objs[] = {
	{
		.funcs = test_klp_bad_dup_func_funcs,
	},
	{ }
};

static struct klp_patch test_klp_bad_dup_func_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_bad_dup_func_objs,
};

static int __init test_klp_bad_dup_func_init(void)
{
	return test_klp_bad_enable(&test_klp_bad_dup_func_patch);
}

static void __exit test_klp_bad_dup_func_exit(void)
{
}

module_init(test_klp_bad_dup_func_init);
module_exit(test_klp_bad_dup_func_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: the same function listed twice in one object");
