// SPDX-License-Identifier: GPL-2.0
/*
 * The smallest useful live patch.
 *
 * The kernel function behind /proc/cmdline, cmdline_proc_show(), is
 * replaced by lp_cmdline_show() below while this module's patch is enabled.
 *
 * Try it by hand:
 *
 *   $ cat /proc/cmdline
 *   <the real boot command line>
 *
 *   # insmod livepatch-sample.ko
 *   # cat /sys/kernel/livepatch/livepatch_sample/transition   (wait for 0)
 *   $ cat /proc/cmdline
 *   this has been live patched
 *
 *   # echo 0 > /sys/kernel/livepatch/livepatch_sample/enabled
 *   (wait until /sys/kernel/livepatch/livepatch_sample disappears)
 *   $ cat /proc/cmdline
 *   <the real boot command line again>
 *   # rmmod livepatch-sample
 *
 * The module cannot be removed while its patch is enabled: the patched
 * code lives in it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/seq_file.h>

/* Same prototype as the static function it replaces in fs/proc/cmdline.c. */
static int lp_cmdline_show(struct seq_file *m, void *v)
{
	seq_puts(m, "this has been live patched\n");
	return 0;
}

static struct klp_func sample_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = lp_cmdline_show,
	},
	{ }
};

static struct klp_object sample_objs[] = {
	{
		/* A NULL name selects vmlinux. */
		.funcs = sample_funcs,
	},
	{ }
};

static struct klp_patch sample_patch = {
	.mod = THIS_MODULE,
	.objs = sample_objs,
};

static int __init livepatch_sample_init(void)
{
	return klp_enable_patch(&sample_patch);
}

static void __exit livepatch_sample_exit(void)
{
	/* Nothing to undo: the patch was disabled through sysfs already. */
}

module_init(livepatch_sample_init);
module_exit(livepatch_sample_exit);
MODULE_DESCRIPTION("Live patch sample: replaces the /proc/cmdline handler");
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
