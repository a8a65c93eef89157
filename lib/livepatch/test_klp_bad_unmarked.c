// SPDX-License-Identifier: GPL-2.0
/* test_klp_bad_unmarked - a patch module without MODULE_INFO(livepatch) */

#include "test_klp_bad.h"

static struct klp_func test_klp_bad_unmarked_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = test_klp_bad_cmdline,
	},
	{ }
};

static struct klp_object test_klp_bad_unmarked_objs[] = {
	{
		.funcs = test_klp_bad_unmarked_funcs,
	},
	{ }
};

static struct klp_patch test_klp_bad_unmarked_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_bad_unmarked_objs,
};

static int __init test_klp_bad_unmarked_init(void)
{
	return test_klp_bad_enable(&test_klp_bad_unmarked_patch);
}

static void __exit test_klp_bad_unmarked_exit(void)
{
}

module_init(test_klp_bad_unmarked_init);
module_exit(test_klp_bad_unmarked_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch selftest: a patch module without MODULE_INFO(livepatch)");
