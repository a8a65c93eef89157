// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_cond_resched - a kernel thread that never sleeps, for
 * test-cond-resched.sh.
 *
 * The thread (klp_spinner) loops without end: it calls
 * test_klp_cond_resched_caller(), which calls test_klp_cond_resched_value()
 * (replaced by test_klp_cond_resched_patch), keeps what that returned,
 * counts the loop and calls cond_resched().  While "spin" is 1 it never
 * sleeps, so a round of stack checks never finds it off its CPU with a
 * stack it can check, and it never returns to user space: only a switch in
 * cond_resched() lets a transition complete.  Writing 0 to "spin" makes it
 * sleep 100 ms between loops, which lets any implementation switch it.
 *
 * In /sys/module/test_klp_cond_resched/parameters/:
 *	pid	the thread's pid
 *	loops	how many loops it has done
 *	value	what test_klp_cond_resched_value() returned last: 1 for the
 *		original, 2 for the patch's replacement, 0 before the first
 *	spin	1 (the default): never sleep; 0: sleep between loops
 *	base	added to the results (0; a variable, so that the compiler
 *		cannot fold the call into a constant)
 *	cpu	the CPU the thread is bound to, given at load time (-1, the
 *		default: not bound)
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched.h>

static int pid;
module_param(pid, int, 0444);
MODULE_PARM_DESC(pid, "pid of the spinning thread");

static ulong loops;
module_param(loops, ulong, 0444);
MODULE_PARM_DESC(loops, "loops done by the thread");

static int value;
module_param(value, int, 0444);
MODULE_PARM_DESC(value, "last result of test_klp_cond_resched_value()");

static bool spin = true;
module_param(spin, bool, 0644);
MODULE_PARM_DESC(spin, "1: the thread never sleeps; 0: it sleeps between loops");

static int base;
module_param(base, int, 0444);
MODULE_PARM_DESC(base, "added to the results");

static int cpu = -1;
module_param(cpu, int, 0444);
MODULE_PARM_DESC(cpu, "bind the thread to this CPU (-1: do not)");

static struct task_struct *test_klp_cond_resched_thread;

/* Replaced by test_klp_cond_resched_patch, which returns base + 2. */
static noinline __noclone int test_klp_cond_resched_value(int from)
{
	return from + 1;
}

/* The patched function's caller, where the thread spends its time. */
static noinline __noclone int test_klp_cond_resched_caller(void)
{
	return test_klp_cond_resched_value(READ_ONCE(base));
}

static int test_klp_cond_resched_fn(void *unused)
{
	while (!kthread_should_stop()) {
		if (!READ_ONCE(spin)) {
			schedule_timeout_interruptible(HZ / 10);
			continue;
		}
		WRITE_ONCE(value, test_klp_cond_resched_caller());
		WRITE_ONCE(loops, loops + 1);
		cond_resched();
	}
	return 0;
}

static int __init test_klp_cond_resched_init(void)
{
	struct task_struct *t;

	if (cpu >= nr_cpu_ids || (cpu >= 0 && !cpu_online(cpu)))
		return -EINVAL;
	t = kthread_create(test_klp_cond_resched_fn, NULL, "klp_spinner");
	if (IS_ERR(t))
		return PTR_ERR(t);
	if (cpu >= 0)
		kthread_bind(t, cpu);
	wake_up_process(t);
	test_klp_cond_resched_thread = t;
	pid = t->pid;
	return 0;
}

static void __exit test_klp_cond_resched_exit(void)
{
	kthread_stop(test_klp_cond_resched_thread);
}

module_init(test_klp_cond_resched_init);
module_exit(test_klp_cond_resched_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch test: a kernel thread that only calls cond_resched()");
