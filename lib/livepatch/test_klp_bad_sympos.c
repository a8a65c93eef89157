// SPDX-License-Identifier: GPL-2.0
/* test_klp_bad_sympos - an old_sympos beyond the symbol's matches */

#include "test_klp_bad.h"

static struct klp_func test_klp_bad_sympos_funcs[] = {
	{
		.old_name = "test_klp_dup_show",
		.new_func = test_klp_bad_cmdline,
		.old_sympos = 3,
	},
	{ }
};

static struct klp_object test_klp_bad_sympos_objs[] = {
	{
		.name = "test_klp_dups",
		.funcs = test_klp_bad_sympos_funcs,
	},
	{ }
};

static struct klp_patch test_klp_bad_sympos_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_bad_sympos_objs,
};

static int __init test_klp_bad_sympos_init(void)
{
	return test_klp_bad_enable(&test_klp_bad_sympos_patch);
}

static void __exit test_klp_bad_sympos_exit(void)
{
}

module_init(test_klp_bad_sympos_init);
module_exit(test_klp_bad_sympos_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: an old_sympos beyond the symbol's matches");
