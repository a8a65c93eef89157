// SPDX-License-Identifier: GPL-2.0
/*
 * Watch the four live patch callbacks fire.
 *
 * The patch has three objects, each with all four callbacks:
 *   - vmlinux, with no functions to patch (callbacks alone are enough);
 *   - livepatch_callbacks_mod, also without functions;
 *   - livepatch_callbacks_busymod, where busymod_sleeper() is replaced.
 * Every callback prints its name and the object; for a module object it
 * also prints the module's state (COMING, LIVE, GOING) at that moment.
 * Callbacks run only for objects that are loaded.
 *
 * Try it by hand (dmesg -w):
 *
 *   # insmod livepatch-callbacks-demo.ko
 *     livepatch: enabling patch 'livepatch_callbacks_demo'
 *     livepatch_callbacks_demo: pre_patch_callback: vmlinux
 *     ... transition ...
 *     livepatch_callbacks_demo: post_patch_callback: vmlinux
 *   # insmod livepatch-callbacks-mod.ko
 *     pre_patch_callback and post_patch_callback for livepatch_callbacks_mod
 *     (module state: COMING), before the module's own init message
 *   # echo 0 > /sys/kernel/livepatch/livepatch_callbacks_demo/enabled
 *     pre_unpatch_callback for every loaded object, the transition, then
 *     post_unpatch_callback for the same objects (state LIVE for the module)
 *   # rmmod livepatch_callbacks_demo livepatch_callbacks_mod
 *
 * Refusing a module: load the patch with fail_obj=livepatch_callbacks_mod
 * and the pre_patch callback for that object returns -ENODEV, so
 * "insmod livepatch-callbacks-mod.ko" fails with "No such device".  With
 * fail_obj=vmlinux the patch itself refuses to load.
 *
 * A stuck transition: see livepatch-callbacks-busymod.c.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/string.h>

static char *fail_obj = "";
module_param(fail_obj, charp, 0644);
MODULE_PARM_DESC(fail_obj, "Object (\"vmlinux\" or a module name) whose pre_patch callback returns -ENODEV");

static const char *obj_label(struct klp_object *obj)
{
	return obj->name ? obj->name : "vmlinux";
}

static const char *mod_state(struct module *mod)
{
	switch (mod->state) {
	case MODULE_STATE_LIVE:
		return "LIVE";
	case MODULE_STATE_COMING:
		return "COMING";
	case MODULE_STATE_GOING:
		return "GOING";
	case MODULE_STATE_UNFORMED:
		return "UNFORMED";
	}
	return "?";
}

static void report(const char *callback, struct klp_object *obj)
{
	if (obj->mod)
		pr_info("%s: %s (module state: %s)\n", callback, obj_label(obj),
			mod_state(obj->mod));
	else
		pr_info("%s: %s\n", callback, obj_label(obj));
}

static int demo_pre_patch(struct klp_object *obj)
{
	report("pre_patch_callback", obj);
	if (!strcmp(fail_obj, obj_label(obj))) {
		pr_info("%s: refusing to patch %s\n", __func__, obj_label(obj));
		return -ENODEV;
	}
	return 0;
}

static void demo_post_patch(struct klp_object *obj)
{
	report("post_patch_callback", obj);
}

static void demo_pre_unpatch(struct klp_object *obj)
{
	report("pre_unpatch_callback", obj);
}

static void demo_post_unpatch(struct klp_object *obj)
{
	report("post_unpatch_callback", obj);
}

#define DEMO_CALLBACKS {			\
	.pre_patch = demo_pre_patch,		\
	.post_patch = demo_post_patch,		\
	.pre_unpatch = demo_pre_unpatch,	\
	.post_unpatch = demo_post_unpatch,	\
}

/* Replacement for busymod_sleeper(): returns at once. */
static void demo_busymod_sleeper(unsigned int secs)
{
	pr_info("%s: not sleeping\n", __func__);
}

/* Objects with callbacks only still need an (empty) function list. */
static struct klp_func vmlinux_funcs[] = {
	{ }
};

static struct klp_func mod_funcs[] = {
	{ }
};

static struct klp_func busy_obj_funcs[] = {
	{
		.old_name = "busymod_sleeper",
		.new_func = demo_busymod_sleeper,
	},
	{ }
};

static struct klp_object demo_objs[] = {
	{
		.funcs = vmlinux_funcs,
		.callbacks = DEMO_CALLBACKS,
	},
	{
		.name = "livepatch_callbacks_mod",
		.funcs = mod_funcs,
		.callbacks = DEMO_CALLBACKS,
	},
	{
		.name = "livepatch_callbacks_busymod",
		.funcs = busy_obj_funcs,
		.callbacks = DEMO_CALLBACKS,
	},
	{ }
};

static struct klp_patch demo_patch = {
	.mod = THIS_MODULE,
	.objs = demo_objs,
};

static int __init callbacks_demo_init(void)
{
	return klp_enable_patch(&demo_patch);
}

static void __exit callbacks_demo_exit(void)
{
}

module_init(callbacks_demo_init);
module_exit(callbacks_demo_exit);
MODULE_DESCRIPTION("Live patch sample: (un)patch callbacks");
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
