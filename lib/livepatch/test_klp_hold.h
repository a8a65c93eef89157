/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Body shared by test_klp_holdpatch.c, test_klp_force.c and
 * test_klp_holdcmd.c: a patch of test_klp_target_hold() in test_klp_target.
 * The including file differs in its module name, and test_klp_holdcmd.c
 * defines TEST_KLP_HOLD_CMDLINE: its patch also replaces
 * cmdline_proc_show(), so that a task asleep in the hold function keeps a
 * transition open that involves /proc/cmdline too (test-direct.sh).
 *
 * By default the replacement returns at once.  Loaded with hold_new=1, it
 * sleeps like the original, so that a reader can keep an unpatching
 * transition open; writing to the module parameter "release" wakes such
 * readers and the parameter "sleepers" counts them.
 */
#ifndef _TEST_KLP_HOLD_H
#define _TEST_KLP_HOLD_H

#include <linux/atomic.h>
#include <linux/jiffies.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/sysfs.h>
#include <linux/wait.h>

static bool hold_new;
module_param(hold_new, bool, 0444);
MODULE_PARM_DESC(hold_new, "the replacement sleeps until released");

static unsigned int hold_secs = 60;
module_param(hold_secs, uint, 0644);
MODULE_PARM_DESC(hold_secs, "upper bound of a sleep in the replacement");

static DECLARE_WAIT_QUEUE_HEAD(test_klp_hold_wq);
static atomic_t test_klp_hold_sleepers = ATOMIC_INIT(0);
static unsigned long test_klp_hold_generation;

static int test_klp_hold_release(const char *val, const struct kernel_param *kp)
{
	WRITE_ONCE(test_klp_hold_generation, test_klp_hold_generation + 1);
	wake_up_all(&test_klp_hold_wq);
	return 0;
}

static const struct kernel_param_ops test_klp_hold_release_ops = {
	.set = test_klp_hold_release,
};
module_param_cb(release, &test_klp_hold_release_ops, NULL, 0200);
MODULE_PARM_DESC(release, "any write wakes the readers sleeping in the replacement");

static int test_klp_hold_count(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&test_klp_hold_sleepers));
}

static const struct kernel_param_ops test_klp_hold_sleepers_ops = {
	.get = test_klp_hold_count,
};
module_param_cb(sleepers, &test_klp_hold_sleepers_ops, NULL, 0444);
MODULE_PARM_DESC(sleepers, "readers sleeping in the replacement");

static void test_klp_hold_replacement(struct seq_file *m)
{
	unsigned long gen;
	long ret;

	if (!hold_new) {
		seq_puts(m, KBUILD_MODNAME ": not held\n");
		return;
	}

	gen = READ_ONCE(test_klp_hold_generation);
	atomic_inc(&test_klp_hold_sleepers);
	ret = wait_event_killable_timeout(test_klp_hold_wq,
					  READ_ONCE(test_klp_hold_generation) != gen,
			(long)hold_secs * HZ);
	atomic_dec(&test_klp_hold_sleepers);

	if (ret > 0)
		seq_puts(m, KBUILD_MODNAME ": released\n");
	else
		seq_puts(m, KBUILD_MODNAME ": hold ended without release\n");
}

static struct klp_func test_klp_hold_funcs[] = {
	{
		.old_name = "test_klp_target_hold",
		.new_func = test_klp_hold_replacement,
	},
	{ }
};

#ifdef TEST_KLP_HOLD_CMDLINE
static int test_klp_hold_cmdline(struct seq_file *m, void *v)
{
	seq_printf(m, "%s: cmdline replaced\n", KBUILD_MODNAME);
	return 0;
}

static struct klp_func test_klp_hold_vmlinux_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = test_klp_hold_cmdline,
	},
	{ }
};
#endif

static struct klp_object test_klp_hold_objs[] = {
	{
		.name = "test_klp_target",
		.funcs = test_klp_hold_funcs,
	},
#ifdef TEST_KLP_HOLD_CMDLINE
	{
		/* vmlinux */
		.funcs = test_klp_hold_vmlinux_funcs,
	},
#endif
	{ }
};

static struct klp_patch test_klp_hold_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_hold_objs,
};

static int __init test_klp_hold_init(void)
{
	return klp_enable_patch(&test_klp_hold_patch);
}

static void __exit test_klp_hold_exit(void)
{
}

module_init(test_klp_hold_init);
module_exit(test_klp_hold_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");

#endif
