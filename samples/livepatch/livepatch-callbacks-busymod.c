// SPDX-License-Identifier: GPL-2.0
/*
 * A target module with a task that will not let go of a function.
 *
 * On load, a work item enters busymod_sleeper() and stays there for
 * hold_secs seconds (default 30), sleeping a little at a time.  While a
 * task sleeps inside a function, a live patch that replaces that function
 * cannot switch the task to the new code, so the patch transition stays
 * open.  livepatch-callbacks-demo replaces busymod_sleeper(), which makes
 * this visible.
 *
 * Try it by hand (dmesg -w):
 *
 *   # insmod livepatch-callbacks-busymod.ko hold_secs=60
 *     livepatch_callbacks_busymod: worker entered busymod_sleeper(), holding
 *       it for 60 s
 *   # insmod livepatch-callbacks-demo.ko
 *   # cat /sys/kernel/livepatch/livepatch_callbacks_demo/transition
 *     1        (stays 1 while the worker sleeps; the pre_patch callbacks
 *              have run, the post_patch ones have not)
 *
 *   Either wait: once the worker leaves busymod_sleeper(), the transition
 *   completes and the post_patch callbacks are printed.  Or give up:
 *   # echo 0 > /sys/kernel/livepatch/livepatch_callbacks_demo/enabled
 *     The transition is reversed at once; only the post_unpatch callbacks
 *     run, balancing the pre_patch ones.
 *
 *   # rmmod livepatch_callbacks_busymod   (stops the worker early)
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/workqueue.h>
#include <linux/delay.h>
#include <linux/jiffies.h>

static unsigned int hold_secs = 30;
module_param(hold_secs, uint, 0444);
MODULE_PARM_DESC(hold_secs, "Seconds the worker stays in busymod_sleeper() (default 30)");

static bool stopping;

/* Patched by livepatch-callbacks-demo; must stay a real function. */
static noinline __noclone void busymod_sleeper(unsigned int secs)
{
	unsigned long until = jiffies + secs * HZ;

	pr_info("worker entered %s(), holding it for %u s\n", __func__, secs);
	while (!READ_ONCE(stopping) && time_before(jiffies, until))
		msleep(100);
	pr_info("worker left %s()\n", __func__);
}

static void busymod_work_fn(struct work_struct *work)
{
	busymod_sleeper(hold_secs);
}

static DECLARE_WORK(busymod_work, busymod_work_fn);

static int __init busymod_init(void)
{
	schedule_work(&busymod_work);
	return 0;
}

static void __exit busymod_exit(void)
{
	WRITE_ONCE(stopping, true);
	flush_work(&busymod_work);
	pr_info("unloading\n");
}

module_init(busymod_init);
module_exit(busymod_exit);
MODULE_DESCRIPTION("Target module whose worker sleeps in a patched function");
MODULE_LICENSE("GPL");
