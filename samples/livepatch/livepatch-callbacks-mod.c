// SPDX-License-Identifier: GPL-2.0
/*
 * A target module that does nothing at all, so that
 * livepatch-callbacks-demo has a module object whose callbacks can be
 * watched as the module comes and goes.
 *
 * Try it by hand (dmesg -w):
 *
 *   # insmod livepatch-callbacks-demo.ko
 *   # insmod livepatch-callbacks-mod.ko
 *     livepatch: applying patch 'livepatch_callbacks_demo' to loading module
 *       'livepatch_callbacks_mod'
 *     livepatch_callbacks_demo: pre_patch_callback: livepatch_callbacks_mod
 *       (module state: COMING)
 *     livepatch_callbacks_demo: post_patch_callback: livepatch_callbacks_mod
 *       (module state: COMING)
 *     livepatch_callbacks_mod: loaded
 *   # rmmod livepatch_callbacks_mod
 *     livepatch_callbacks_mod: unloading
 *     livepatch_callbacks_demo: pre_unpatch_callback: livepatch_callbacks_mod
 *       (module state: GOING)
 *     livepatch: reverting patch 'livepatch_callbacks_demo' on unloading
 *       module 'livepatch_callbacks_mod'
 *     livepatch_callbacks_demo: post_unpatch_callback: livepatch_callbacks_mod
 *       (module state: GOING)
 *
 * Loading this module first and the patch second shows the callbacks run
 * while the module is LIVE instead.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>

static int __init callbacks_mod_init(void)
{
	pr_info("loaded\n");
	return 0;
}

static void __exit callbacks_mod_exit(void)
{
	pr_info("unloading\n");
}

module_init(callbacks_mod_init);
module_exit(callbacks_mod_exit);
MODULE_DESCRIPTION("Plain target module for livepatch-callbacks-demo");
MODULE_LICENSE("GPL");
