// SPDX-License-Identifier: GPL-2.0
/* test_klp_bad_long_func - an old_name longer than KSYM_NAME_LEN */

#include "test_klp_bad.h"

/* 64 characters */
#define LONG_FUNC_64 \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789__"
/* "test_klp_" plus 512 characters, while KSYM_NAME_LEN is 512 */
#define LONG_FUNC_NAME "test_klp_" \
	LONG_FUNC_64 LONG_FUNC_64 LONG_FUNC_64 LONG_FUNC_64 \
	LONG_FUNC_64 LONG_FUNC_64 LONG_FUNC_64 LONG_FUNC_64

static struct klp_func test_klp_bad_long_func_funcs[] = {
	{
		.old_name = LONG_FUNC_NAME,
		.new_func = test_klp_bad_cmdline,
	},
	{ }
};

static struct klp_object test_klp_bad_long_func_objs[] = {
	{
		.funcs = test_klp_bad_long_func_funcs,
	},
	{ }
};

static struct klp_patch test_klp_bad_long_func_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_bad_long_func_objs,
};

static int __init test_klp_bad_long_func_init(void)
{
	return test_klp_bad_enable(&test_klp_bad_long_func_patch);
}

static void __exit test_klp_bad_long_func_exit(void)
{
}

module_init(test_klp_bad_long_func_init);
module_exit(test_klp_bad_long_func_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: an old_name longer than KSYM_NAME_LEN");
