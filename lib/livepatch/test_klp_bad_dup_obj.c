// SPDX-License-Identifier: GPL-2.0
/* test_klp_bad_dup_obj - the same object (vmlinux) listed twice */

#include "test_klp_bad.h"

/*
 * Two separate func arrays: the objects are duplicates by name only (both
 * are vmlinux), no klp_func is shared between them.
 */
static struct klp_func test_klp_bad_dup_obj_first[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = test_klp_bad_cmdline,
	},
	{ }
};

static struct klp_func test_klp_bad_dup_obj_second[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = test_klp_bad_cmdline,
	},
	{ }
};

static struct klp_object test_klp_bad_dup_obj_objs[] = {
	{
		.funcs = test_klp_bad_dup_obj_first,
	},
	{
		.funcs = test_klp_bad_dup_obj_second,
	},
	{ }
};

static struct klp_patch test_klp_bad_dup_obj_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_bad_dup_obj_objs,
};

static int __init test_klp_bad_dup_obj_init(void)
{
	return test_klp_bad_enable(&test_klp_bad_dup_obj_patch);
}

static void __exit test_klp_bad_dup_obj_exit(void)
{
}

module_init(test_klp_bad_dup_obj_init);
module_exit(test_klp_bad_dup_obj_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: the same object (vmlinux) listed twice");
