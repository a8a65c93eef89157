// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_callbacks_demo2 - a second callback-reporting patch, vmlinux
 * only, to stack on or replace test_klp_callbacks_demo.
 *
 *   replace=Y       set klp_patch.replace (atomic replace)
 *   callbacks=N     register no callbacks at all
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include "test_klp_callbacks.h"

static bool replace;
module_param(replace, bool, 0444);
MODULE_PARM_DESC(replace, "Atomically replace all enabled patches (default N)");

static bool callbacks = true;
module_param(callbacks, bool, 0444);
MODULE_PARM_DESC(callbacks, "Register the callbacks (default Y)");

static int demo2_pre_patch(struct klp_object *obj)
{
	klpt_report("pre_patch_callback", obj);
	return 0;
}

static void demo2_post_patch(struct klp_object *obj)
{
	klpt_report("post_patch_callback", obj);
}

static void demo2_pre_unpatch(struct klp_object *obj)
{
	klpt_report("pre_unpatch_callback", obj);
}

static void demo2_post_unpatch(struct klp_object *obj)
{
	klpt_report("post_unpatch_callback", obj);
}

static struct klp_func vmlinux_funcs[] = {
	{ }
};

static struct klp_object demo2_objs[] = {
	{
		.funcs = vmlinux_funcs,
	},
	{ }
};

static struct klp_patch demo2_patch = {
	.mod = THIS_MODULE,
	.objs = demo2_objs,
};

static int __init klpt_callbacks_demo2_init(void)
{
	if (callbacks) {
		demo2_objs[0].callbacks.pre_patch = demo2_pre_patch;
		demo2_objs[0].callbacks.post_patch = demo2_post_patch;
		demo2_objs[0].callbacks.pre_unpatch = demo2_pre_unpatch;
		demo2_objs[0].callbacks.post_unpatch = demo2_post_unpatch;
	}
	demo2_patch.replace = replace;
	return klp_enable_patch(&demo2_patch);
}

static void __exit klpt_callbacks_demo2_exit(void)
{
}

module_init(klpt_callbacks_demo2_init);
module_exit(klpt_callbacks_demo2_exit);
MODULE_DESCRIPTION("Livepatch selftest: second callback patch, optionally replacing");
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
