// SPDX-License-Identifier: GPL-2.0
/* test_klp_bad_null_objs - a patch whose objs array is NULL */

#include "test_klp_bad.h"

static struct klp_patch test_klp_bad_null_objs_patch = {
	.mod = THIS_MODULE,
	.objs = NULL,
};

static int __init test_klp_bad_null_objs_init(void)
{
	return test_klp_bad_enable(&test_klp_bad_null_objs_patch);
}

static void __exit test_klp_bad_null_objs_exit(void)
{
}

module_init(test_klp_bad_null_objs_init);
module_exit(test_klp_bad_null_objs_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: a patch whose objs array is NULL");
