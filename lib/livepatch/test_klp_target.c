// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_target - a module for the livepatch selftests to patch.
 *
 * /proc/test_klp_target/greeting	output of test_klp_target_greeting()
 * /proc/test_klp_target/hold		test_klp_target_hold(): the reader
 *					sleeps inside this function until
 *					"release" is written (or hold_secs pass)
 * /proc/test_klp_target/nudge		test_klp_target_nudge(): the same,
 *					but the reader sleeps interruptibly
 *					and re-evaluates its signals
 * /proc/test_klp_target/release	any write wakes every held reader
 * /proc/test_klp_target/sleepers	how many readers are inside the hold
 *					or the nudge
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/signal.h>
#include <linux/wait.h>

static unsigned int hold_secs = 60;
module_param(hold_secs, uint, 0644);
MODULE_PARM_DESC(hold_secs, "upper bound of a sleep in test_klp_target_hold() or test_klp_target_nudge()");

static DECLARE_WAIT_QUEUE_HEAD(test_klp_target_wq);
static atomic_t test_klp_target_sleepers = ATOMIC_INIT(0);
static unsigned long test_klp_target_generation;
static struct proc_dir_entry *test_klp_target_dir;

/* Replaced by test_klp_modpatch and test_klp_sysfs. */
static noinline void test_klp_target_greeting(struct seq_file *m)
{
	seq_puts(m, "test_klp_target: unpatched greeting\n");
}

/* Replaced by test_klp_holdpatch and test_klp_force; sleeps while held. */
static noinline void test_klp_target_hold(struct seq_file *m)
{
	unsigned long gen = READ_ONCE(test_klp_target_generation);
	long ret;

	atomic_inc(&test_klp_target_sleepers);
	ret = wait_event_killable_timeout(test_klp_target_wq,
					  READ_ONCE(test_klp_target_generation) != gen,
			(long)hold_secs * HZ);
	atomic_dec(&test_klp_target_sleepers);

	if (ret > 0)
		seq_puts(m, "test_klp_target: released\n");
	else if (ret == 0)
		seq_puts(m, "test_klp_target: hold timed out\n");
	else
		seq_puts(m, "test_klp_target: hold interrupted\n");
}

/*
 * Re-evaluate which signals are pending, as code that blocks signals
 * around a step and restores them does: sigprocmask() recomputes
 * TIF_SIGPENDING from the signals queued, so the flag alone, set by a
 * wake-up that queued no signal, does not survive it.  TIF_NOTIFY_SIGNAL
 * does: only the return to user space clears it.  Test code: it runs
 * between prepare_to_wait() and schedule(), which is safe because
 * sigprocmask() only takes the siglock and never sleeps.
 */
static void test_klp_target_recalc_signals(void)
{
	sigset_t all, old;

	siginitsetinv(&all, sigmask(SIGKILL) | sigmask(SIGSTOP));
	sigprocmask(SIG_BLOCK, &all, &old);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/*
 * Replaced by test_klp_nudge.  Sleeps like test_klp_target_hold(), but
 * interruptibly, and re-evaluates its signals each time it wakes, before
 * it looks at them: a livepatch nudge that only sets TIF_SIGPENDING is
 * lost here and the reader sleeps on (test-transition.sh).
 */
static noinline void test_klp_target_nudge(struct seq_file *m)
{
	unsigned long gen = READ_ONCE(test_klp_target_generation);
	unsigned long end = jiffies + (unsigned long)hold_secs * HZ;
	const char *how = "timed out";
	DEFINE_WAIT(wait);
	long left;

	atomic_inc(&test_klp_target_sleepers);
	for (;;) {
		prepare_to_wait(&test_klp_target_wq, &wait, TASK_INTERRUPTIBLE);
		test_klp_target_recalc_signals();
		if (READ_ONCE(test_klp_target_generation) != gen) {
			how = "released";
			break;
		}
		if (signal_pending(current)) {
			how = "interrupted";
			break;
		}
		left = (long)(end - jiffies);
		if (left <= 0)
			break;
		schedule_timeout(left);
	}
	finish_wait(&test_klp_target_wq, &wait);
	atomic_dec(&test_klp_target_sleepers);
	seq_printf(m, "test_klp_target: nudge %s\n", how);
}

static int greeting_show(struct seq_file *m, void *v)
{
	test_klp_target_greeting(m);
	return 0;
}

static int hold_show(struct seq_file *m, void *v)
{
	test_klp_target_hold(m);
	return 0;
}

static int nudge_show(struct seq_file *m, void *v)
{
	test_klp_target_nudge(m);
	return 0;
}

static int sleepers_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%d\n", atomic_read(&test_klp_target_sleepers));
	return 0;
}

static ssize_t release_write(struct file *file, const char __user *buf,
			     size_t count, loff_t *ppos)
{
	WRITE_ONCE(test_klp_target_generation, test_klp_target_generation + 1);
	wake_up_all(&test_klp_target_wq);
	return count;
}

static const struct proc_ops release_ops = {
	.proc_write	= release_write,
	.proc_lseek	= noop_llseek,
};

static int __init test_klp_target_init(void)
{
	test_klp_target_dir = proc_mkdir(KBUILD_MODNAME, NULL);
	if (!test_klp_target_dir)
		return -ENOMEM;

	if (!proc_create_single("greeting", 0444, test_klp_target_dir, greeting_show) ||
	    !proc_create_single("hold", 0444, test_klp_target_dir, hold_show) ||
	    !proc_create_single("nudge", 0444, test_klp_target_dir, nudge_show) ||
	    !proc_create_single("sleepers", 0444, test_klp_target_dir, sleepers_show) ||
	    !proc_create("release", 0200, test_klp_target_dir, &release_ops)) {
		proc_remove(test_klp_target_dir);
		return -ENOMEM;
	}

	pr_info("module loaded\n");
	return 0;
}

static void __exit test_klp_target_exit(void)
{
	proc_remove(test_klp_target_dir);
	pr_info("module unloaded\n");
}

module_init(test_klp_target_init);
module_exit(test_klp_target_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch selftest: module whose functions get patched");
