// SPDX-License-Identifier: GPL-2.0
/* test_klp_bad_ambiguous - an ambiguous symbol without old_sympos */

#include "test_klp_bad.h"

static struct klp_func test_klp_bad_ambiguous_funcs[] = {
	{
		.old_name = "test_klp_dup_show",
		.new_func = test_klp_bad_cmdline,
	},
	{ }
};

static struct klp_object test_klp_bad_ambiguous_objs[] = {
	{
		.name = "test_klp_dups",
		.funcs = test_klp_bad_ambiguous_funcs,
	},
	{ }
};

static struct klp_patch test_klp_bad_ambiguous_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_bad_ambiguous_objs,
};

static int __init test_klp_bad_ambiguous_init(void)
{
	return test_klp_bad_enable(&test_klp_bad_ambiguous_patch);
}

static void __exit test_klp_bad_ambiguous_exit(void)
{
}

module_init(test_klp_bad_ambiguous_init);
module_exit(test_klp_bad_ambiguous_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: an ambiguous symbol without old_sympos");
