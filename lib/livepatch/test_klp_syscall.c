// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_syscall - replaces the getpid() system call, which every task
 * may call at any time, with a version that returns the same value and
 * counts its calls.
 *
 * /sys/module/test_klp_syscall/parameters/calls	calls of the new
 *							getpid() so far
 */

#include <linux/atomic.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sysfs.h>

/* The entry point the system call table calls on this architecture. */
#if defined(CONFIG_X86_64)
#define TEST_KLP_SYS_GETPID "__x64_sys_getpid"
#else
#define TEST_KLP_SYS_GETPID "sys_getpid"
#endif

static atomic_long_t test_klp_syscall_calls = ATOMIC_LONG_INIT(0);

static int test_klp_syscall_calls_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&test_klp_syscall_calls));
}

static const struct kernel_param_ops test_klp_syscall_calls_ops = {
	.get = test_klp_syscall_calls_get,
};
module_param_cb(calls, &test_klp_syscall_calls_ops, NULL, 0444);
MODULE_PARM_DESC(calls, "Number of calls of the patched getpid() (read-only)");

/* Same prototype as the syscall wrapper it replaces. */
static long test_klp_syscall_getpid(const struct pt_regs *regs)
{
	atomic_long_inc(&test_klp_syscall_calls);
	return task_tgid_vnr(current);
}

static struct klp_func test_klp_syscall_funcs[] = {
	{
		.old_name = TEST_KLP_SYS_GETPID,
		.new_func = test_klp_syscall_getpid,
	},
	{ }
};

static struct klp_object test_klp_syscall_objs[] = {
	{
		/* vmlinux */
		.funcs = test_klp_syscall_funcs,
	},
	{ }
};

static struct klp_patch test_klp_syscall_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_syscall_objs,
};

static int __init test_klp_syscall_init(void)
{
	return klp_enable_patch(&test_klp_syscall_patch);
}

static void __exit test_klp_syscall_exit(void)
{
}

module_init(test_klp_syscall_init);
module_exit(test_klp_syscall_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: patch the getpid() system call");
