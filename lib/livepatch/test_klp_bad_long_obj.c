// SPDX-License-Identifier: GPL-2.0
/* test_klp_bad_long_obj - an object name longer than MODULE_NAME_LEN */

#include "test_klp_bad.h"

/* 64 characters, MODULE_NAME_LEN is 56 on 64-bit */
#define LONG_OBJ_NAME \
	"test_klp_an_object_name_much_too_long_for_any_module_to_have_xyz"

static struct klp_func test_klp_bad_long_obj_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = test_klp_bad_cmdline,
	},
	{ }
};

static struct klp_object test_klp_bad_long_obj_objs[] = {
	{
		.name = LONG_OBJ_NAME,
		.funcs = test_klp_bad_long_obj_funcs,
	},
	{ }
};

static struct klp_patch test_klp_bad_long_obj_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_bad_long_obj_objs,
};

static int __init test_klp_bad_long_obj_init(void)
{
	return test_klp_bad_enable(&test_klp_bad_long_obj_patch);
}

static void __exit test_klp_bad_long_obj_exit(void)
{
}

module_init(test_klp_bad_long_obj_init);
module_exit(test_klp_bad_long_obj_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: an object name longer than MODULE_NAME_LEN");
