// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_callbacks_demo - a patch that reports every callback.
 *
 * Objects (all four callbacks on each):
 *   vmlinux                  no functions
 *   test_klp_callbacks_mod   no functions
 *   test_klp_callbacks_busy  replaces test_klp_busy_hold()
 *
 * fail_obj=<object name> ("vmlinux" or a module name) makes the pre_patch
 * callback of that object return -ENODEV.  The parameter is writable in
 * /sys/module/test_klp_callbacks_demo/parameters/fail_obj, so a module
 * loaded later can be refused.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/string.h>
#include "test_klp_callbacks.h"

static char *fail_obj = "";
module_param(fail_obj, charp, 0644);
MODULE_PARM_DESC(fail_obj, "Object whose pre_patch callback fails with -ENODEV");

static int demo_pre_patch(struct klp_object *obj)
{
	klpt_report("pre_patch_callback", obj);
	if (!strcmp(fail_obj, klpt_obj_name(obj))) {
		pr_info("pre_patch_callback: obj=%s returns -ENODEV\n",
			klpt_obj_name(obj));
		return -ENODEV;
	}
	return 0;
}

static void demo_post_patch(struct klp_object *obj)
{
	klpt_report("post_patch_callback", obj);
}

static void demo_pre_unpatch(struct klp_object *obj)
{
	klpt_report("pre_unpatch_callback", obj);
}

static void demo_post_unpatch(struct klp_object *obj)
{
	klpt_report("post_unpatch_callback", obj);
}

static void demo_busy_hold(void)
{
	pr_info("%s(): patched, not holding\n", __func__);
}

static struct klp_func vmlinux_funcs[] = {
	{ }
};

static struct klp_func mod_funcs[] = {
	{ }
};

static struct klp_func busy_funcs[] = {
	{
		.old_name = "test_klp_busy_hold",
		.new_func = demo_busy_hold,
	},
	{ }
};

#define DEMO_CALLBACKS {				\
		.pre_patch = demo_pre_patch,		\
		.post_patch = demo_post_patch,		\
		.pre_unpatch = demo_pre_unpatch,	\
		.post_unpatch = demo_post_unpatch,	\
	}

static struct klp_object demo_objs[] = {
	{
		.funcs = vmlinux_funcs,
		.callbacks = DEMO_CALLBACKS,
	},
	{
		.name = "test_klp_callbacks_mod",
		.funcs = mod_funcs,
		.callbacks = DEMO_CALLBACKS,
	},
	{
		.name = "test_klp_callbacks_busy",
		.funcs = busy_funcs,
		.callbacks = DEMO_CALLBACKS,
	},
	{ }
};

static struct klp_patch demo_patch = {
	.mod = THIS_MODULE,
	.objs = demo_objs,
};

static int __init klpt_callbacks_demo_init(void)
{
	return klp_enable_patch(&demo_patch);
}

static void __exit klpt_callbacks_demo_exit(void)
{
}

module_init(klpt_callbacks_demo_init);
module_exit(klpt_callbacks_demo_exit);
MODULE_DESCRIPTION("Livepatch selftest: report every (un)patch callback");
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
