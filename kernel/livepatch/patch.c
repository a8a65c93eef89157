// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Redirection of patched functions.
 *
 * Design
 * ------
 * Every patched function is a "site": the ftrace location at the start of
 * the original function.  A site carries a stack of struct klp_func, the
 * newest patch on top.  All sites share ONE ftrace_ops, klp_ops, whose filter
 * holds exactly the sites' addresses.  Its handler finds the site of the
 * traced address in a hash table and jumps to the replacement chosen from the
 * stack (see klp_pick_func() in internal.h).
 *
 * Why one ops: the ops is static data of the core kernel, so ftrace treats it
 * as permanent.  Changing its filter needs no RCU-tasks grace period, and a
 * whole object (or patch) is added or removed with one batched
 * ftrace_set_filter_ips() call, i.e. one pass of code modification instead of
 * one register/unregister cycle per function.  Stock designs with one
 * dynamically allocated ops per function pay an RCU-tasks grace period for
 * every function they unregister.
 *
 * Invariants
 * ----------
 * - A site is hashed in klp_sites before its address enters klp_ops'
 *   filter, and unhashed when its stack of functions becomes empty, before
 *   its address leaves the filter.  A handler that finds no site for a
 *   traced address therefore leaves the call alone: the original function
 *   runs, which is what an empty stack means.
 * - klp_ops is registered while klp_sites is non-empty, and unregistered
 *   before the filter loses its last address: an ops with an empty filter
 *   would trace every function.
 * - The handler disables preemption itself (it takes no ftrace recursion
 *   lock, see klp_ftrace_handler()) and may run where RCU is not watching.
 *   Unhashed sites are therefore freed only after klp_sync_handlers(), which
 *   schedules on every CPU.
 * - Func stacks and klp_sites are modified only under klp_mutex.
 *
 * Calls without the handler: see "Calls without the handler" below.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/bug.h>
#include <linux/cpu.h>
#include <linux/workqueue.h>
#include <linux/context_tracking_irq.h>
#include <linux/sched/isolation.h>
#include <linux/moduleloader.h>
#include <linux/set_memory.h>
#include <linux/vmalloc.h>
#include <linux/moduleparam.h>
#include <linux/fault-inject.h>
#include <asm/livepatch.h>
#include "internal.h"
#include "trace.h"

struct klp_site {
	struct hlist_node hash;		/* in klp_sites, RCU protected */
	unsigned long ip;		/* ftrace location */
	struct list_head func_stack;	/* struct klp_func, newest first */
	struct list_head batch;		/* on a batch's list of sites */
};

#define KLP_SITE_HASH_BITS	10

static struct hlist_head klp_sites[1 << KLP_SITE_HASH_BITS];
static unsigned int klp_nr_sites;

static void klp_ftrace_handler(unsigned long ip, unsigned long parent_ip,
			       struct ftrace_ops *fops,
			       struct ftrace_regs *fregs);

static struct ftrace_ops klp_ops = {
	.func	= klp_ftrace_handler,
	.flags	= FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_PERMANENT
#ifndef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
		  | FTRACE_OPS_FL_SAVE_REGS
#endif
		  ,
};

static bool klp_ops_registered;

/*
 * Set when addresses could not leave the filter (ftrace_set_filter_ips()
 * allocates, and may fail): the filter holds addresses without a site.
 * Harmless for correctness, as the handler leaves such calls alone, but
 * each costs a trip through the handler.  klp_ftrace_resync() puts the
 * filter right at once, or, when it cannot allocate either, at the next
 * patch operation (test-fault-inject.sh, "filter").  Protected by
 * klp_mutex.
 */
static bool klp_filter_stale;

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
/*
 * /sys/kernel/debug/fail_klp_ftrace_filter makes klp_ftrace_filter() fail
 * as ftrace_set_filter_ips() does when it cannot allocate, with the usual
 * knobs of Documentation/fault-injection (probability, interval, times,
 * ...).  test-fault-inject.sh uses it to reach the failure paths of
 * unpatching: they run in the transition's work item, where the fail-nth
 * of a test's own task cannot reach.
 */
static DECLARE_FAULT_ATTR(klp_fail_filter);

static int __init klp_fail_filter_init(void)
{
	struct dentry *dir;

	dir = fault_create_debugfs_attr("fail_klp_ftrace_filter", NULL,
					&klp_fail_filter);
	return PTR_ERR_OR_ZERO(dir);
}
late_initcall(klp_fail_filter_init);

static bool klp_filter_should_fail(void)
{
	/*
	 * should_fail() also counts down the fail-nth of the calling task:
	 * unless armed (probability 0, the default), this point takes no
	 * part in that, so that fail-nth keeps counting allocations only.
	 * Once armed, a task's fail-nth can also end here.
	 */
	return READ_ONCE(klp_fail_filter.probability) &&
	       should_fail(&klp_fail_filter, 1);
}
#else
static bool klp_filter_should_fail(void)
{
	return false;
}
#endif

/*
 * Every change of klp_ops' filter goes through here: add (or, with
 * @remove, take out) the @nr addresses @ips, after emptying the filter
 * when @reset.
 */
static int klp_ftrace_filter(unsigned long *ips, unsigned int nr, int remove,
			     int reset)
{
	if (klp_filter_should_fail())
		return -ENOMEM;
	return ftrace_set_filter_ips(&klp_ops, ips, nr, remove, reset);
}

static __always_inline struct hlist_head *klp_site_bucket(unsigned long ip)
{
	return &klp_sites[hash_long(ip, KLP_SITE_HASH_BITS)];
}

static __always_inline struct klp_site *klp_site_find(unsigned long ip)
{
	struct klp_site *site;

	hlist_for_each_entry_rcu_notrace(site, klp_site_bucket(ip), hash)
		if (site->ip == ip)
			return site;
	return NULL;
}

/*
 * With isolated or nohz_full CPUs, klp_sync_handlers() waits for handlers
 * on those CPUs with an RCU grace period instead of a work item there, so
 * a handler must not run where RCU is not watching (in 6.1 a traced
 * function may run in the idle loop after RCU stopped watching the CPU):
 * it makes RCU watch, as the "rcuidle" tracepoints do, with interrupts
 * off around the noinstr ct_irq_enter() and ct_irq_exit().  In NMI context RCU
 * always watches.  Without CPU isolation this costs one static branch.
 */
static __always_inline bool klp_handler_rcu_enter(void)
{
#ifdef CONFIG_CPU_ISOLATION
	if (static_branch_unlikely(&housekeeping_overridden) &&
	    unlikely(!rcu_is_watching())) {
		unsigned long flags;

		/* ct_irq_enter() is noinstr: the handler cannot recurse. */
		raw_local_irq_save(flags);
		ct_irq_enter();
		raw_local_irq_restore(flags);
		return true;
	}
#endif
	return false;
}

static __always_inline void klp_handler_rcu_exit(void)
{
	unsigned long flags;

	raw_local_irq_save(flags);
	ct_irq_exit();
	raw_local_irq_restore(flags);
}

static void notrace klp_ftrace_handler(unsigned long ip,
				       unsigned long parent_ip,
				       struct ftrace_ops *fops,
				       struct ftrace_regs *fregs)
{
	struct klp_site *site;
	struct klp_func *func;

	bool rcu_entered;

	/*
	 * klp_sync_handlers() relies on the handler running with preemption
	 * disabled.  No recursion guard is needed: nothing below can be
	 * traced (it is all inline or notrace, and the only other calls are
	 * the WARN of a bug and, when it is enabled, the klp_handler trace
	 * event, whose perf and BPF users bound their own recursion).
	 */
	preempt_disable_notrace();
	rcu_entered = klp_handler_rcu_enter();

	site = klp_site_find(ip);
	func = site ? klp_pick_func(&site->func_stack) : NULL;
	if (func)
		ftrace_instruction_pointer_set(fregs,
					       (unsigned long)func->new_func);
	/* The rcuidle variant: RCU may not be watching; it must not run in NMI. */
	if (trace_klp_handler_enabled() && !in_nmi())
		trace_klp_handler_rcuidle(ip, func ? (unsigned long)func->new_func : 0);

	if (rcu_entered)
		klp_handler_rcu_exit();
	preempt_enable_notrace();
}

static void klp_sync_noop(struct work_struct *work)
{
}

/* One work item per CPU for klp_sync_handlers(); used under klp_mutex. */
static DEFINE_PER_CPU(struct work_struct, klp_sync_works);

/**
 * klp_sync_handlers() - wait for every running ftrace handler
 *
 * Context: klp_mutex held, which serializes the use of klp_sync_works.
 *
 * The handler runs with preemption disabled, possibly where RCU is not
 * watching, so an RCU grace period alone is not enough.  Running a work
 * item on every CPU is: once it ran everywhere, every handler that started
 * before the call has returned.  The same holds for
 * klp_update_patch_state(), which also runs with preemption disabled.
 *
 * The items go to the high-priority workqueue: its nice -20 workers preempt
 * a CPU-bound task at once, where a nice 0 worker that ran a moment ago may
 * wait for that task's time slice to end (several ticks).  The work items
 * are static, so the wait cannot fail for want of memory.
 *
 * Isolated and nohz_full CPUs get no work item: there the handler makes
 * sure that RCU watches (klp_ftrace_handler()), so its preemption-disabled
 * section is an RCU read-side critical section, and an RCU grace period
 * waits for it without disturbing those CPUs (one in user space or idle is
 * in an RCU extended quiescent state).
 */
void klp_sync_handlers(void)
{
	bool isolated = false;
	int cpu;

	lockdep_assert_held(&klp_mutex);

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		struct work_struct *work = per_cpu_ptr(&klp_sync_works, cpu);

		INIT_WORK(work, klp_sync_noop);
		if (cpu_is_isolated(cpu)) {
			isolated = true;
			continue;
		}
		queue_work_on(cpu, system_highpri_wq, work);
	}
	for_each_online_cpu(cpu)
		flush_work(per_cpu_ptr(&klp_sync_works, cpu));
	cpus_read_unlock();

	if (isolated)
		synchronize_rcu();
}

/* The ftrace location of @func's original function: its site's address. */
unsigned long klp_func_ip(struct klp_func *func)
{
	return ftrace_location((unsigned long)func->old_func);
}

/**
 * klp_func_below() - the function a task runs before @func applies to it
 * @func: a patched function
 *
 * Return: the previous patch's replacement of the same function, or NULL when
 * @func is the only one and the original code lies below it.
 */
struct klp_func *klp_func_below(struct klp_func *func)
{
	struct klp_site *site;

	lockdep_assert_held(&klp_mutex);

	site = klp_site_find(klp_func_ip(func));
	if (!site || list_is_last(&func->stack_node, &site->func_stack))
		return NULL;
	return list_next_entry(func, stack_node);
}

/*
 * A set of sites whose addresses enter or leave klp_ops' filter together.
 * Sites that leave stay on @sites until they can be freed.
 */
struct klp_batch {
	struct list_head sites;
	unsigned long *ips;
	unsigned int nr;
	unsigned int max;
};

/*
 * Unpatching cannot be refused, so it allocates nothing of its own:
 * addresses leave the filter in chunks of this buffer (protected by
 * klp_mutex).  ftrace itself allocates to change the filter; when that
 * fails the functions are restored all the same and only their addresses
 * stay in the filter (klp_filter_stale).
 */
#define KLP_UNPATCH_CHUNK	256
static unsigned long klp_unpatch_ips[KLP_UNPATCH_CHUNK];

static void klp_batch_add(struct klp_batch *batch, struct klp_site *site)
{
	list_add_tail(&site->batch, &batch->sites);
	batch->ips[batch->nr++] = site->ip;
}

/* Free the sites of @batch once no handler can still be looking at them. */
static void klp_batch_free_sites(struct klp_batch *batch)
{
	struct klp_site *site, *tmp;

	if (list_empty(&batch->sites))
		return;

	klp_sync_handlers();
	list_for_each_entry_safe(site, tmp, &batch->sites, batch)
		kfree(site);
	INIT_LIST_HEAD(&batch->sites);
}

/*
 * Start tracing the addresses of @batch, whose sites are already hashed.
 * On failure, *@step names the ftrace call that failed.
 */
static int klp_ftrace_add(struct klp_batch *batch, const char **step)
{
	int ret;

	if (!batch->nr)
		return 0;

	*step = "set ftrace filter";
	ret = klp_ftrace_filter(batch->ips, batch->nr, 0, 0);
	if (ret)
		return ret;

	if (klp_ops_registered)
		return 0;

	/* Fails with -EBUSY while sysctl kernel.ftrace_enabled is 0. */
	*step = "register ftrace handler";
	ret = register_ftrace_function(&klp_ops);
	if (ret) {
		if (klp_ftrace_filter(batch->ips, batch->nr, 1, 0))
			klp_filter_stale = true;
		return ret;
	}
	klp_ops_registered = true;
	return 0;
}

/*
 * Stop tracing the addresses collected in @batch, whose sites are already
 * unhashed.  When no site is left the ops is unregistered first, so that it
 * never runs with an empty filter.
 */
static void klp_ftrace_remove(struct klp_batch *batch)
{
	int ret;

	if (!batch->nr)
		return;

	if (!klp_nr_sites && klp_ops_registered) {
		WARN_ON(unregister_ftrace_function(&klp_ops));
		klp_ops_registered = false;
	}
	ret = klp_ftrace_filter(batch->ips, batch->nr, 1, 0);
	if (ret) {
		pr_warn("failed to remove %u address%s from the ftrace filter (%d)\n",
			batch->nr, batch->nr == 1 ? "" : "es", ret);
		klp_filter_stale = true;
	}
	batch->nr = 0;
}

/*
 * After a failed removal, make the filter hold exactly the sites' addresses
 * again.  Failing once more leaves it as it was, for the next try.
 */
static void klp_ftrace_resync(void)
{
	struct klp_site *site;
	unsigned long *ips;
	unsigned int i, nr = 0;
	int ret = -ENOMEM;

	if (!klp_filter_stale)
		return;

	ips = kcalloc(max(klp_nr_sites, 1U), sizeof(*ips), GFP_KERNEL);
	if (ips) {
		for (i = 0; i < ARRAY_SIZE(klp_sites); i++)
			hlist_for_each_entry(site, &klp_sites[i], hash)
				ips[nr++] = site->ip;
		/* Replaces the whole filter; empty only while unregistered. */
		ret = klp_ftrace_filter(ips, nr, 0, 1);
		kfree(ips);
	}
	if (!ret) {
		klp_filter_stale = false;
		return;
	}
	pr_warn("failed to reset the ftrace filter (%d): addresses of unpatched functions stay traced until the next patch operation\n",
		ret);
}

static bool klp_batch_has_ip(const struct klp_batch *batch, unsigned long ip)
{
	unsigned int i;

	for (i = 0; i < batch->nr; i++)
		if (batch->ips[i] == ip)
			return true;
	return false;
}

/*
 * A batch of @obj's functions could not be traced: find the first function
 * that fails alone, to name it (when ftrace cannot be used at all, that is
 * the first of @obj, as a stock kernel names it), or NULL when each works
 * alone (ftrace ran out of memory for the batch).  Called only after the
 * batch failed, so the cost of trying each address does not matter.
 */
static struct klp_func *klp_failing_func(struct klp_object *obj,
					 const struct klp_batch *batch)
{
	struct klp_func *func;

	klp_for_each_func(obj, func) {
		unsigned long ip = klp_func_ip(func);

		/* Sites of other patches: their addresses stay untouched. */
		if (!klp_batch_has_ip(batch, ip))
			continue;
		if (klp_ftrace_filter(&ip, 1, 0, 0))
			return func;
		if (!klp_ops_registered) {
			int ret = register_ftrace_function(&klp_ops);

			if (!ret)
				WARN_ON(unregister_ftrace_function(&klp_ops));
			if (klp_ftrace_filter(&ip, 1, 1, 0))
				klp_filter_stale = true;
			if (ret)
				return func;
			continue;
		}
		if (klp_ftrace_filter(&ip, 1, 1, 0))
			klp_filter_stale = true;
	}
	return NULL;
}

/* Take @func off its stack; an emptied site leaves the filter via @batch. */
static void klp_pop_func(struct klp_func *func, struct klp_batch *batch)
{
	struct klp_site *site;

	if (!func->patched)
		return;

	site = klp_site_find(klp_func_ip(func));
	if (WARN_ON(!site))
		return;

	list_del_rcu(&func->stack_node);
	WRITE_ONCE(func->patched, false);

	if (!list_empty(&site->func_stack))
		return;

	hlist_del_rcu(&site->hash);
	klp_nr_sites--;
	if (batch->nr == batch->max)
		klp_ftrace_remove(batch);
	klp_batch_add(batch, site);
}

/* Push @func onto the stack of its site, creating the site in @batch. */
static int klp_push_func(struct klp_func *func, struct klp_batch *batch)
{
	unsigned long ip = klp_func_ip(func);
	struct klp_site *site;

	if (WARN_ON(!func->old_func || func->patched))
		return -EINVAL;

	if (!ip) {
		pr_err("failed to find location for function '%s'\n",
		       func->old_name);
		return -EINVAL;
	}

	site = klp_site_find(ip);
	if (!site) {
		site = kzalloc(sizeof(*site), GFP_KERNEL);
		if (!site)
			return -ENOMEM;
		site->ip = ip;
		INIT_LIST_HEAD(&site->func_stack);
		hlist_add_head_rcu(&site->hash, klp_site_bucket(ip));
		klp_nr_sites++;
		klp_batch_add(batch, site);
	}

	list_add_rcu(&func->stack_node, &site->func_stack);
	WRITE_ONCE(func->patched, true);
	return 0;
}

static unsigned int klp_count_funcs(struct klp_object *obj)
{
	struct klp_func *func;
	unsigned int nr = 0;

	klp_for_each_func(obj, func)
		nr++;
	return nr;
}

static void klp_unpatch_batch_init(struct klp_batch *batch)
{
	lockdep_assert_held(&klp_mutex);
	INIT_LIST_HEAD(&batch->sites);
	batch->ips = klp_unpatch_ips;
	batch->nr = 0;
	batch->max = ARRAY_SIZE(klp_unpatch_ips);
}

static void klp_unpatch_batch_finish(struct klp_batch *batch)
{
	klp_ftrace_remove(batch);
	klp_ftrace_resync();
	klp_batch_free_sites(batch);
}

/* Pop the functions of @obj, or only its nops when @nops_only. */
static void klp_pop_object(struct klp_object *obj, bool nops_only,
			   struct klp_batch *batch)
{
	struct klp_func *func;

	klp_for_each_func(obj, func)
		if (!nops_only || func->nop)
			klp_pop_func(func, batch);

	if (!nops_only)
		obj->patched = false;
}

/*
 * Undo a failed klp_redirect_object().  Only the sites it created (those on
 * @batch) can become empty, and their addresses never stayed in the filter,
 * so they are just unhashed and freed.
 */
static void klp_patch_object_undo(struct klp_object *obj,
				  struct klp_batch *batch)
{
	struct klp_func *func;
	struct klp_site *site;

	klp_for_each_func(obj, func) {
		if (!func->patched)
			continue;
		list_del_rcu(&func->stack_node);
		WRITE_ONCE(func->patched, false);
	}

	list_for_each_entry(site, &batch->sites, batch) {
		WARN_ON(!list_empty(&site->func_stack));
		hlist_del_rcu(&site->hash);
		klp_nr_sites--;
	}
	klp_batch_free_sites(batch);
}

/*
 * Log which function of @obj the failed @step of @batch (the addresses of
 * the sites it created, already undone) is about.
 */
static void klp_report_failing_func(struct klp_object *obj,
				    const struct klp_batch *batch,
				    const char *step, int ret)
{
	struct klp_func *func = klp_failing_func(obj, batch);

	if (!func)
		func = list_first_entry(&obj->func_list, struct klp_func, node);
	pr_err("failed to %s for function '%s' (%d)\n", step, func->old_name,
	       ret);
}

/**
 * klp_redirect_object() - redirect every function of a loaded object
 * @obj: object whose functions have been resolved
 *
 * All new addresses enter the ftrace filter in one batch.  On failure nothing
 * of @obj stays patched.
 *
 * Return: 0 or a negative errno.
 */
int klp_redirect_object(struct klp_object *obj)
{
	struct klp_batch batch;
	struct klp_func *func;
	const char *step = "";
	int ret = 0;

	lockdep_assert_held(&klp_mutex);

	if (WARN_ON(obj->patched))
		return -EINVAL;

	INIT_LIST_HEAD(&batch.sites);
	batch.nr = 0;
	batch.max = klp_count_funcs(obj);
	batch.ips = kcalloc(max(batch.max, 1U), sizeof(*batch.ips),
			    GFP_KERNEL);
	if (!batch.ips)
		return -ENOMEM;

	/* Before any site of @obj is hashed: it covers the others only. */
	klp_ftrace_resync();

	klp_for_each_func(obj, func) {
		ret = klp_push_func(func, &batch);
		if (ret)
			break;
	}

	if (!ret)
		ret = klp_ftrace_add(&batch, &step);

	if (ret) {
		klp_patch_object_undo(obj, &batch);
		if (*step)
			klp_report_failing_func(obj, &batch, step, ret);
	} else {
		obj->patched = true;
	}

	kfree(batch.ips);
	klp_direct_update();
	return ret;
}

/**
 * klp_restore_object() - stop redirecting the functions of one object
 * @obj: a patched object
 */
void klp_restore_object(struct klp_object *obj)
{
	struct klp_batch batch;

	klp_unpatch_batch_init(&batch);
	klp_pop_object(obj, false, &batch);
	klp_unpatch_batch_finish(&batch);
	klp_direct_update();
}

static void klp_unpatch_patch(struct klp_patch *patch, bool nops_only)
{
	struct klp_object *obj;
	struct klp_batch batch;

	klp_unpatch_batch_init(&batch);
	klp_for_each_object(patch, obj)
		if (obj->patched)
			klp_pop_object(obj, nops_only, &batch);
	klp_unpatch_batch_finish(&batch);
	klp_direct_update();
}

/**
 * klp_restore_patch() - stop redirecting every function of a patch
 * @patch: the patch
 *
 * All addresses leave the ftrace filter together, and freed bookkeeping
 * waits for a single synchronisation.
 */
void klp_restore_patch(struct klp_patch *patch)
{
	klp_unpatch_patch(patch, false);
}

/**
 * klp_restore_nops() - drop the generated nop functions
 * @patch: an atomic-replace patch whose transition has completed
 */
void klp_restore_nops(struct klp_patch *patch)
{
	klp_unpatch_patch(patch, true);
}

/*
 * Calls without the handler
 * -------------------------
 * The handler is needed only while a transition decides, task by task,
 * which function a call runs.  Between transitions every task runs the top
 * of each stack, so a call can go there directly.  klp_ops has a trampoline
 * of its own, the dispatcher (arch/x86/include/asm/livepatch.h), which
 * ftrace calls at every site that klp_ops alone traces, instead of its
 * generic trampoline.  The dispatcher looks the site up in a table, by the
 * return address of the site's call (site + MCOUNT_INSN_SIZE); a hit holds
 * the function to run, and the dispatcher jumps there, dropping the return
 * into the original function: about twenty instructions instead of saving
 * the registers and calling the handler.  A miss calls the handler itself,
 * with the argument registers saved around it in a struct ftrace_regs,
 * exactly as the trampoline ftrace would have made for klp_ops does (no
 * list of ops, no recursion check that could drop a call).
 *
 * The table (klp_dtab) holds every site whose top function is settled: no
 * transition runs (klp_trans_patch is NULL) and the top is not a nop.  It
 * is rebuilt, under klp_mutex, whenever a stack changes outside a
 * transition (a module coming or going) and when a transition completes;
 * a transition is prepared with no table at all, so from then on every
 * call takes the handler.  No ftrace update is involved: what ftrace
 * patches into the sites stays the same, and a site that another ftrace
 * user (a tracer, a kprobe, a BPF trampoline) shares is called through
 * ftrace's list of ops, i.e. the handler, by ftrace itself, for as long as
 * the other user stays (the site's FTRACE_FL_TRAMP).
 *
 * Why an old table is harmless while a transition runs: a task that read
 * it before the transition was prepared runs the function that was on top,
 * which is that of its state (it has not switched).  It cannot switch while
 * it is in the dispatcher: until the dispatcher drops the return address
 * into the original function (the site plus MCOUNT_INSN_SIZE, a range of
 * every transition) that address is on the stack, and from the load of the
 * target until the target's first instruction %r11 holds the target, which
 * a task preempted there has saved on its stack with its other registers;
 * the target is the function the transition leaves behind, so both the
 * scan of the stack's words and the unwind find the task blocked (the
 * unwinder also finds no ORC data for the dispatcher, and a trace through
 * the thunks it leaves through is cut short: klp_trace_cut() in
 * transition.c).  It switches itself only at points outside any patched
 * call (user space return, idle, cond_resched()).  Once it jumped, the
 * chosen function is where it runs, and the ranges of the transition
 * cover it.
 * Tasks that switched read the new table: the switch orders their later
 * loads after its publication (locks on the task, or the barriers of
 * TIF_PATCH_PENDING).
 *
 * An old table is freed once no dispatcher can still be reading it:
 * after an RCU-tasks grace period (a task preempted in the dispatcher;
 * under PREEMPT_NONE and VOLUNTARY, without CONFIG_TASKS_RCU, that is a
 * plain RCU grace period, and no task is preempted in kernel code) and a
 * "rude" one (a schedule on every CPU, for dispatchers running with
 * preemption disabled, also in the idle loop where RCU may not be
 * watching).  The second would disturb isolated CPUs, so with CPU
 * isolation (isolcpus=, nohz_full=) there is no table: every call takes
 * the handler, which keeps to housekeeping CPUs (klp_sync_handlers()).
 *
 * livepatch.direct=0 (boot, or /sys/module/livepatch/parameters/direct)
 * turns the table off.
 */
struct klp_dslot {
	unsigned long key;		/* site + MCOUNT_INSN_SIZE, 0: empty */
	unsigned long target;		/* the function to run */
};

struct klp_dtab {
	unsigned long mask;		/* slot index mask: the dispatcher's */
	struct rcu_head rcu;
	struct klp_dslot slot[];	/* at KLP_DTAB_SLOTS_OFF */
};

static struct klp_dtab __rcu *klp_dtab;
static void *klp_dispatcher;
static bool klp_direct = true;

static bool klp_direct_possible(void)
{
#ifdef CONFIG_CPU_ISOLATION
	if (static_branch_unlikely(&housekeeping_overridden))
		return false;
#endif
	return klp_dispatcher && READ_ONCE(klp_direct);
}

/* The function a settled site runs, or NULL for one that needs the handler. */
static struct klp_func *klp_site_settled(struct klp_site *site)
{
	struct klp_func *top;

	top = list_first_entry_or_null(&site->func_stack, struct klp_func,
				       stack_node);
	if (!top || top->nop || top->transition ||
	    !klp_arch_can_jump_to((unsigned long)top->new_func))
		return NULL;
	return top;
}

static void klp_dtab_insert(struct klp_dtab *tab, unsigned long key,
			    unsigned long target)
{
	unsigned long i = (key >> 4) & tab->mask;

	while (tab->slot[i].key)
		i++;
	tab->slot[i].key = key;
	tab->slot[i].target = target;
}

/*
 * A table of every settled site, or NULL when there is none (or no
 * memory: the handler serves every call then).  Slots: a power of two at
 * least twice the sites, for the hash, plus one per site for runs that
 * probe past the last, plus an empty one that ends every run.  Not inlined:
 * test-fault-inject.sh knows its allocation, which may fail, by its name.
 * With IBT a site whose replacement lacks an endbr stays with the handler
 * (klp_arch_can_jump_to()).
 */
static noinline struct klp_dtab *klp_dtab_build(void)
{
	unsigned int n = 0, bkt;
	unsigned long slots;
	struct klp_site *site;
	struct klp_dtab *tab;
	struct klp_func *func;

	hash_for_each(klp_sites, bkt, site, hash)
		if (klp_site_settled(site))
			n++;
	if (!n)
		return NULL;

	slots = roundup_pow_of_two(2UL * n);
	tab = kvzalloc(struct_size(tab, slot, slots + n + 1), GFP_KERNEL);
	if (!tab)
		return NULL;
	tab->mask = slots - 1;
	hash_for_each(klp_sites, bkt, site, hash) {
		func = klp_site_settled(site);
		if (func)
			klp_dtab_insert(tab, site->ip + MCOUNT_INSN_SIZE,
					(unsigned long)func->new_func);
	}
	return tab;
}

static void klp_dtab_free(struct rcu_head *rcu)
{
	kvfree(container_of(rcu, struct klp_dtab, rcu));
}

/* After the RCU-tasks grace period: the "rude" one (see above). */
static void klp_dtab_tasks_done(struct rcu_head *rcu)
{
	call_rcu_tasks_rude(rcu, klp_dtab_free);
}

/* Free @tab once no dispatcher can read it (see above). */
static void klp_dtab_retire(struct klp_dtab *tab)
{
	if (tab)
		call_rcu_tasks(&tab->rcu, klp_dtab_tasks_done);
}

/**
 * klp_direct_update() - give the dispatcher the table the stacks call for
 *
 * Context: klp_mutex held.  No table while a transition is prepared or
 * runs; else one of every settled site.
 */
void klp_direct_update(void)
{
	struct klp_dtab *tab = NULL;

	lockdep_assert_held(&klp_mutex);

	if (!klp_trans_patch && klp_direct_possible())
		tab = klp_dtab_build();
	if (!tab && !rcu_access_pointer(klp_dtab))
		return;
	/* Slots are written before the table is published: release. */
	tab = rcu_replace_pointer(klp_dtab, tab, lockdep_is_held(&klp_mutex));
	klp_dtab_retire(tab);
}

/* Whether @tab has a slot for the site whose call returns to @key. */
static bool klp_dtab_holds(const struct klp_dtab *tab, unsigned long key)
{
	unsigned long i;

	for (i = (key >> 4) & tab->mask; tab->slot[i].key; i++)
		if (tab->slot[i].key == key)
			return true;
	return false;
}

/*
 * Why calls of @top, the top of @site's stack, take the handler, or NULL
 * when they do not (the site is in the dispatcher's table).  Context:
 * preemption disabled, which keeps the site and the table from being freed
 * (klp_sync_handlers(), and the "rude" grace period of klp_dtab_retire()).
 */
static const char *klp_site_handler_reason(struct klp_site *site,
					   struct klp_func *top)
{
	unsigned long target;
	struct klp_dtab *tab;

	if (!klp_dispatcher)
		return "handler no-dispatcher";
	if (READ_ONCE(klp_trans_patch))
		return "handler transition";
	if (!READ_ONCE(klp_direct))
		return "handler off";
	if (!klp_direct_possible())
		return "handler isolation";
	if (!klp_arch_can_jump_to((unsigned long)READ_ONCE(top->new_func)))
		return "handler no-endbr";
	target = klp_arch_site_target(site->ip);
	if (target <= 1)
		return target ? "handler updating" : "handler untraced";
	if (target != (unsigned long)klp_dispatcher)
		return "handler shared";
	tab = rcu_dereference_sched(klp_dtab);
	if (!tab || !klp_dtab_holds(tab, site->ip + MCOUNT_INSN_SIZE))
		return "handler no-table";
	return NULL;
}

/**
 * klp_func_call_mode() - how calls of a patched function are served now
 * @func: a function of a registered patch
 *
 * For the "call" file of the function's sysfs directory:
 *  - "direct": the dispatcher jumps to @func's replacement (see "Calls
 *    without the handler" above);
 *  - "handler <why>": every call goes through klp_ftrace_handler():
 *    "transition" (a transition runs), "off" (livepatch.direct=0),
 *    "isolation" (CPU isolation), "no-endbr" (IBT, and the replacement has
 *    no endbr), "shared" (another ftrace user traces the function, so
 *    ftrace calls its list of ops), "updating" (ftrace is rewriting the
 *    call site), "untraced" (ftrace stopped tracing it: ftrace_kill()),
 *    "no-table" (the table could not be allocated),
 *    "no-dispatcher" (none could be made at boot);
 *  - "superseded": a newer patch's replacement runs instead;
 *  - "unpatched": @func is not on its function's stack (its object is not
 *    loaded, or the patch is not enabled).
 *
 * Context: any task context.  A snapshot taken without klp_mutex: function
 * directories are removed under it, and a reader waiting for it there
 * would deadlock with their removal.
 *
 * Return: one of the strings above.
 */
const char *klp_func_call_mode(struct klp_func *func)
{
	unsigned long old_func = (unsigned long)READ_ONCE(func->old_func);
	const char *mode = "unpatched";
	struct klp_func *top;
	struct klp_site *site;
	unsigned long ip;

	/* The object went: nothing to look up (it was unpatched first). */
	ip = old_func ? ftrace_location(old_func) : 0;
	preempt_disable();
	site = ip && READ_ONCE(func->patched) ? klp_site_find(ip) : NULL;
	top = site ? list_first_or_null_rcu(&site->func_stack, struct klp_func,
					    stack_node) : NULL;
	if (!top)
		goto out;
	if (top != func) {
		/* Tasks not switched yet may still run @func. */
		mode = READ_ONCE(top->transition) ? "handler transition" :
						    "superseded";
		goto out;
	}
	mode = klp_site_handler_reason(site, top) ?: "direct";
out:
	preempt_enable();
	return mode;
}

static int klp_direct_set(const char *val, const struct kernel_param *kp)
{
	int ret;

	/* On the command line: before klp_direct_init(), no table to change. */
	if (!klp_dispatcher)
		return param_set_bool(val, kp);

	mutex_lock(&klp_mutex);
	ret = param_set_bool(val, kp);
	if (!ret)
		klp_direct_update();
	mutex_unlock(&klp_mutex);
	return ret;
}

static const struct kernel_param_ops klp_direct_ops = {
	.set = klp_direct_set,
	.get = param_get_bool,
};
module_param_cb(direct, &klp_direct_ops, &klp_direct, 0644);
MODULE_PARM_DESC(direct,
		 "Call patched functions without the ftrace handler between transitions (default: Y)");

/*
 * klp_direct_init() - make the dispatcher klp_ops' trampoline
 *
 * Called once at boot, before klp_ops can be registered.  On failure klp_ops
 * keeps the trampoline ftrace makes for it and every call takes the
 * handler.  The dispatcher has no symbol: in a stack dump its addresses
 * show as "?" entries (and a task preempted there has an unreliable stack,
 * which the design relies on).
 */
void __init klp_direct_init(void)
{
	u8 code[KLP_DISPATCH_MAX];
	unsigned int len;
	void *mem;

	BUILD_BUG_ON(offsetof(struct klp_dtab, mask) != 0);
	BUILD_BUG_ON(offsetof(struct klp_dtab, slot) != KLP_DTAB_SLOTS_OFF);
	BUILD_BUG_ON(sizeof(struct klp_dslot) != 16);
	BUILD_BUG_ON(KLP_DISPATCH_MAX > PAGE_SIZE);

	mem = module_alloc(PAGE_SIZE);
	if (!mem)
		goto fail;
	len = klp_arch_write_dispatcher(code, (unsigned long)mem,
					(unsigned long)&klp_dtab,
					(unsigned long)klp_ftrace_handler,
					(unsigned long)&klp_ops);
	if (!len)
		goto free;
	memset(mem, 0xcc, PAGE_SIZE);
	memcpy(mem, code, len);
	set_vm_flush_reset_perms(mem);
	if (set_memory_ro((unsigned long)mem, 1) ||
	    set_memory_x((unsigned long)mem, 1))
		goto free;
	klp_dispatcher = mem;
	klp_ops.trampoline = (unsigned long)mem;
	return;
free:
	module_memfree(mem);
fail:
	pr_warn("no dispatcher: patched functions are always called through the ftrace handler\n");
}
