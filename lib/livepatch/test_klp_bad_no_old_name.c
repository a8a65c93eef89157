// SPDX-License-Identifier: GPL-2.0
/* test_klp_bad_no_old_name - a func with a new_func but no old_name */

#include "test_klp_bad.h"

static struct klp_func test_klp_bad_no_old_name_funcs[] = {
	{
		.new_func = test_klp_bad_cmdline,
	},
	{ }
};

static struct klp_object test_klp_bad_no_old_name_objs[] = {
	{
		.funcs = test_klp_bad_no_old_name_funcs,
	},
	{ }
};

static struct klp_patch test_klp_bad_no_old_name_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_bad_no_old_name_objs,
};

static int __init test_klp_bad_no_old_name_init(void)
{
	return test_klp_bad_enable(&test_klp_bad_no_old_name_patch);
}

static void __exit test_klp_bad_no_old_name_exit(void)
{
}

module_init(test_klp_bad_no_old_name_init);
module_exit(test_klp_bad_no_old_name_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: a func with a new_func but no old_name");
