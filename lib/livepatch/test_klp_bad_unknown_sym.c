// SPDX-License-Identifier: GPL-2.0
/* test_klp_bad_unknown_sym - a func naming a symbol that does not exist */

#include "test_klp_bad.h"

static struct klp_func test_klp_bad_unknown_sym_funcs[] = {
	{
		.old_name = "test_klp_no_such_symbol",
		.new_func = test_klp_bad_cmdline,
	},
	{ }
};

static struct klp_object test_klp_bad_unknown_sym_objs[] = {
	{
		.funcs = test_klp_bad_unknown_sym_funcs,
	},
	{ }
};

static struct klp_patch test_klp_bad_unknown_sym_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_bad_unknown_sym_objs,
};

static int __init test_klp_bad_unknown_sym_init(void)
{
	return test_klp_bad_enable(&test_klp_bad_unknown_sym_patch);
}

static void __exit test_klp_bad_unknown_sym_exit(void)
{
}

module_init(test_klp_bad_unknown_sym_init);
module_exit(test_klp_bad_unknown_sym_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: a func naming a symbol that does not exist");
