// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_callbacks_busy - a target module whose worker sits inside
 * test_klp_busy_hold(), the function test_klp_callbacks_demo replaces.
 * While the worker is in there, a transition to or from that patch cannot
 * finish for that task.
 *
 * Parameters:
 *   hold=Y (default)  the worker stays in test_klp_busy_hold() until hold
 *                     is set to N through
 *                     /sys/module/test_klp_callbacks_busy/parameters/hold
 *                     or the module is unloaded;
 *   hold=N            the worker passes straight through.
 *
 * Log lines: "worker entered test_klp_busy_hold()" once the worker is
 * inside (wait for it before loading the patch) and "worker left
 * test_klp_busy_hold()" when it returns.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/workqueue.h>
#include <linux/delay.h>

static bool hold = true;
module_param(hold, bool, 0644);
MODULE_PARM_DESC(hold, "Keep the worker inside test_klp_busy_hold() (default Y)");

/* The patch target: out of line and under its own name. */
static noinline __noclone void test_klp_busy_hold(void)
{
	pr_info("worker entered %s()\n", __func__);
	while (READ_ONCE(hold))
		msleep(20);
	pr_info("worker left %s()\n", __func__);
}

static void test_klp_busy_work_fn(struct work_struct *work)
{
	test_klp_busy_hold();
}

static DECLARE_WORK(test_klp_busy_work, test_klp_busy_work_fn);

static int __init klpt_callbacks_busy_init(void)
{
	pr_info("init\n");
	schedule_work(&test_klp_busy_work);
	return 0;
}

static void __exit klpt_callbacks_busy_exit(void)
{
	WRITE_ONCE(hold, false);
	flush_work(&test_klp_busy_work);
	pr_info("exit\n");
}

module_init(klpt_callbacks_busy_init);
module_exit(klpt_callbacks_busy_exit);
MODULE_DESCRIPTION("Livepatch selftest: target module with a task inside a patched function");
MODULE_LICENSE("GPL");
