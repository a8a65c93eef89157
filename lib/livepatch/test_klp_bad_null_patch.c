// SPDX-License-Identifier: GPL-2.0
/* test_klp_bad_null_patch - klp_enable_patch() called with a NULL patch */

#include "test_klp_bad.h"

static int __init test_klp_bad_null_patch_init(void)
{
	return test_klp_bad_enable(NULL);
}

static void __exit test_klp_bad_null_patch_exit(void)
{
}

module_init(test_klp_bad_null_patch_init);
module_exit(test_klp_bad_null_patch_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: a NULL patch");
