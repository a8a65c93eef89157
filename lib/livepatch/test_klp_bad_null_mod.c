// SPDX-License-Identifier: GPL-2.0
/* test_klp_bad_null_mod - a patch whose mod is NULL */

#include "test_klp_bad.h"

static struct klp_func test_klp_bad_null_mod_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = test_klp_bad_cmdline,
	},
	{ }
};

static struct klp_object test_klp_bad_null_mod_objs[] = {
	{
		.funcs = test_klp_bad_null_mod_funcs,
	},
	{ }
};

static struct klp_patch test_klp_bad_null_mod_patch = {
	.objs = test_klp_bad_null_mod_objs,
};

static int __init test_klp_bad_null_mod_init(void)
{
	return test_klp_bad_enable(&test_klp_bad_null_mod_patch);
}

static void __exit test_klp_bad_null_mod_exit(void)
{
}

module_init(test_klp_bad_null_mod_init);
module_exit(test_klp_bad_null_mod_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: a patch whose mod is NULL");
