// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_callbacks_mod - a target module with nothing to patch.  It only
 * exists so that test_klp_callbacks_demo has a module object whose
 * callbacks run as this module is loaded and unloaded.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>

static int __init klpt_callbacks_mod_init(void)
{
	pr_info("init\n");
	return 0;
}

static void __exit klpt_callbacks_mod_exit(void)
{
	pr_info("exit\n");
}

module_init(klpt_callbacks_mod_init);
module_exit(klpt_callbacks_mod_exit);
MODULE_DESCRIPTION("Livepatch selftest: plain callback target module");
MODULE_LICENSE("GPL");
