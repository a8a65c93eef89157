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
 * Why one ops: the ops is static data of the core kernel (no
 * FTRACE_OPS_FL_DYNAMIC), so changing its filter needs no RCU-tasks grace
 * period, and a whole object (or patch) is added or removed with one batched
 * ftrace_set_filter_ips() call, i.e. one pass of code modification instead of
 * one register/unregister cycle per function.  Stock designs with one
 * dynamically allocated ops per function pay an RCU-tasks grace period for
 * every function they unregister.
 *
 * Invariants
 * ----------
 * - A site is hashed in klp_sites before its address enters klp_ops'
 *   filter, and unhashed only after its address left the filter: a site
 *   whose stack of functions became empty stays hashed until then (for
 *   good when the address cannot leave: klp_filter_stale), as ftrace asks
 *   for its trampoline as long as the address is in the filter.  A
 *   handler that finds an empty stack, or no site, leaves the call alone:
 *   the original function runs, which is what an empty stack means.
 *   klp_nr_sites counts the sites with functions.  The one exception: when
 *   klp_ops could not be registered, the sites of that batch go even if
 *   their addresses stay in the filter (ftrace never called klp_ops
 *   there, and no new site gets a stub while the filter is stale).
 * - klp_ops is registered while a site has functions, and unregistered
 *   before the filter loses its last address: an ops with an empty filter
 *   would trace every function.
 * - The handler disables preemption itself (its common path takes no
 *   ftrace recursion lock, see klp_ftrace_handler()) and may run where RCU
 *   is not watching.
 *   Unhashed sites are therefore freed only after klp_sync_handlers(), which
 *   schedules on every CPU (and a site with a stub only after an RCU-tasks
 *   grace period too: see "Calls without the handler").
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
#include <linux/llist.h>
#include <linux/memory.h>
#include <linux/sort.h>
#include <asm/livepatch.h>
#include "internal.h"
#include "trace.h"

#define KLP_SITE_HASH_BITS	10

static struct hlist_head klp_sites[1 << KLP_SITE_HASH_BITS];
static unsigned int klp_nr_sites;
/* Sites are many (one per patched function), and 72 bytes on 64 bits. */
static struct kmem_cache *klp_site_cache;

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
 * Point the call at the function the current task runs for the site at
 * @ip, if it has one (else the original code runs).  Returns the address
 * chosen, or 0, for the trace event.
 */
static __always_inline unsigned long
klp_redirect_call(unsigned long ip, struct ftrace_regs *fregs)
{
	struct klp_site *site = klp_site_find(ip);
	struct klp_func *func;

	func = site ? klp_pick_func(&site->func_stack) : NULL;
	if (!func)
		return 0;
	ftrace_instruction_pointer_set(fregs, (unsigned long)func->new_func);
	return (unsigned long)func->new_func;
}

/*
 * The klp_handler event, out of line so that the handler's common path
 * keeps its few values in scratch registers.  The rcuidle variant, as RCU
 * may not be watching; it must not run in NMI context.  What the event
 * calls can be traced (SRCU, and ct_irq_enter_irqson() for rcuidle): were
 * one of those functions live patched, its handler would emit the event
 * again, and again.  ftrace's recursion lock ends that: it lets the event
 * nest once (its allowance for a switch of context), and a handler nested
 * deeper still redirects its call but emits no event.  (That holds where
 * the handler trampoline calls the handler.  At a site shared with another
 * ftrace user, ftrace's list function has a recursion guard of its own,
 * and when that trips it calls no handler: the original function runs,
 * as on stock.)
 */
static noinline void notrace klp_handler_event(unsigned long ip,
					       unsigned long new_func)
{
	int bit;

	if (in_nmi())
		return;
	bit = ftrace_test_recursion_trylock(ip, _RET_IP_);
	if (bit < 0)
		return;
	trace_klp_handler_rcuidle(ip, new_func);
	ftrace_test_recursion_unlock(bit);
}

static __always_inline void klp_redirect_call_traced(unsigned long ip,
						     struct ftrace_regs *fregs)
{
	unsigned long new_func = klp_redirect_call(ip, fregs);

	if (trace_klp_handler_enabled())
		klp_handler_event(ip, new_func);
}

/*
 * With isolated or nohz_full CPUs, klp_sync_handlers() waits for handlers
 * on those CPUs with an RCU grace period instead of a work item there, so
 * a handler must not run where RCU is not watching (in 6.1 a traced
 * function may run in the idle loop after RCU stopped watching the CPU):
 * it makes RCU watch, as the "rcuidle" tracepoints do, with interrupts
 * off around the noinstr ct_irq_enter() and ct_irq_exit().  In NMI context
 * RCU always watches.  Without CPU isolation this costs one static branch
 * (a load and a test without CONFIG_JUMP_LABEL).
 */
static __always_inline bool klp_handler_isolation(void)
{
#ifdef CONFIG_CPU_ISOLATION
	return static_branch_unlikely(&housekeeping_overridden);
#else
	return false;
#endif
}

static noinline void notrace klp_redirect_call_isolated(unsigned long ip,
							struct ftrace_regs *fregs)
{
	bool enter = !rcu_is_watching();
	unsigned long flags;

	/* ct_irq_enter() and ct_irq_exit() are noinstr: no recursion. */
	if (enter) {
		raw_local_irq_save(flags);
		ct_irq_enter();
		raw_local_irq_restore(flags);
	}
	klp_redirect_call_traced(ip, fregs);
	if (enter) {
		raw_local_irq_save(flags);
		ct_irq_exit();
		raw_local_irq_restore(flags);
	}
}

/*
 * The common path is a leaf (but for preempt_enable_notrace()'s call of
 * the scheduler): no value lives across a call, so it saves no registers
 * (what is rare, CPU isolation and the trace event, is out of line).
 * Calls pay it while another ftrace user (a tracer, a kprobe) shares the
 * call site, and during transitions; see "Calls without the handler" for
 * the others.
 */
static void notrace klp_ftrace_handler(unsigned long ip,
				       unsigned long parent_ip,
				       struct ftrace_ops *fops,
				       struct ftrace_regs *fregs)
{
	/*
	 * klp_sync_handlers() relies on the handler running with preemption
	 * disabled.  No recursion guard is needed here: the handler's own
	 * code is inline or notrace, and what it calls is notrace or noinstr
	 * (rcu_is_watching(), ct_irq_enter(), ct_irq_exit()), but for the
	 * WARN of a bug and the trace event, which takes ftrace's recursion
	 * lock (klp_handler_event()).
	 */
	preempt_disable_notrace();
	if (klp_handler_isolation())
		klp_redirect_call_isolated(ip, fregs);
	else
		klp_redirect_call_traced(ip, fregs);
	preempt_enable_notrace();
}

static void klp_sync_noop(struct work_struct *work)
{
}

/* One work item per CPU for klp_sync_handlers(); used under klp_mutex. */
static DEFINE_PER_CPU(struct work_struct, klp_sync_works);
/* How many times klp_sync_handlers() waited (klp_mutex); for KUnit. */
KLP_VISIBLE_IF_KUNIT unsigned long klp_nr_handler_syncs;

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
	klp_nr_handler_syncs++;

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
 * Calls without the handler
 * -------------------------
 * The handler is needed only while a transition decides, task by task,
 * which function a call runs.  Outside a transition of its own every task
 * runs the top of a site's stack, so the call can go there directly.
 *
 * Each site gets a stub of its own (arch/x86/include/asm/livepatch.h): a
 * few bytes of code that klp_ops names as the site's trampoline
 * (ftrace_ops::site_trampoline, harness/patches/ftrace-site-trampoline.patch),
 * so ftrace calls the stub at every site that klp_ops alone traces.  The
 * stub's first instruction either jumps to klp_ops' handler trampoline (the
 * handler decides, as for any ftrace call) or is a nop, and then the stub
 * drops the return into the original function and jumps straight to the
 * replacement: two instructions and no indirect branch.  A site that other
 * ftrace users share is called through ftrace's list of ops, i.e. the
 * handler, by ftrace itself, for as long as they stay; the stub waits
 * unused.
 *
 * A stub is "direct" (its first instruction the nop) when its site's top
 * is settled: not a nop, not in a transition, and no transition runs that
 * involves the site (a function of the transition's patch lives there:
 * klp_direct_mark_busy() at klp_trans_prepare(), before any task can
 * switch and before the patch's functions are pushed, until
 * klp_direct_clear_busy() when every task has switched, before the
 * transition is seen as complete).  klp_direct_update() puts every stub
 * right, under klp_mutex, whenever that may change: a transition prepared
 * or completed, an object patched or restored, livepatch.direct written.  It
 * rewrites code with text_poke_queue() in address order, so each pass is
 * one batch (three rounds of sync_core() IPIs per TP_VEC_MAX
 * instructions), not one per stub:
 *  0. sites that jump straight to a target their stub does not keep get
 *     the call of the stub back (see "A jump at the site" below);
 *  1. stubs that must stop being direct get the jump to the handler;
 *  2. stubs about to become direct get the jump to their target (if it
 *     changed);
 *  3. those get the nop;
 *  4. the sites of direct stubs that ftrace points at the stub jump
 *     straight to the target.
 * text_poke_finish() returns only when every CPU has serialized, so after
 * pass 1 no CPU starts down a stub's direct path any more.  A task may
 * still be inside one: preempted (or interrupted) after the nop, before
 * its jump.  It runs what the site's top was before the pass, which is
 * what its state calls for: it has not switched, and it cannot switch
 * while it is there, because a transition's ranges include the stubs of
 * its sites (klp_func_stub_range(); the stub has no ORC data either, so an
 * unwind through it is unreliable).  Pass 2 rewrites the jump of a stub
 * only while it leads to the handler; a stub that changes its target in one
 * call without a transition in between (a module's coming and going
 * update the stubs once, after all patches, so that none of today's
 * callers does that) waits for every such task first (klp_sync_handlers()
 * for CPUs, an RCU-tasks grace period for preempted tasks).  So does a
 * stub whose site stayed hashed without functions (its address could not
 * leave the filter) when a later call gives it a new target: it left its
 * target with no transition and no wait (klp_site_keep_empty()).
 *
 * A jump at the site.  Under pass 4 the call of a stub that only leads on
 * to its target becomes a jump to the target, in the site itself: the
 * function's first instruction (after its endbr) then enters the
 * replacement with the caller's stack, as the stub would have, in one
 * jump instead of a call and a jump (under TCG each jump to another page
 * costs a lookup of the next translation block: this halves what a call
 * costs over the unpatched one).  Nothing is pushed, so no task is ever
 * "inside" the jump: a task preempted at the site has not executed it and
 * will execute whatever the site holds when it resumes, and one that
 * executed it runs the target, the top of the site's stack, as a task
 * that went through the stub does.  ftrace still owns the site and
 * believes it calls the stub: before it rewrites the site (another ftrace
 * user comes, or the address leaves klp_ops' filter) it checks the call,
 * and ftrace_site_alias() tells it that the jump stands for the call
 * (harness/patches/ftrace-site-alias.patch); both sides hold text_mutex,
 * which also keeps the target of the stub and the site's bytes from
 * changing while either looks.  When ftrace has written over the jump the
 * site calls the stub again, still without the handler, until the next
 * klp_direct_update() writes the jump again.  Pass 0 takes the jump away
 * from every site whose stub is about to leave its target, before pass 1:
 * from then on the site calls the stub, and pass 1 sends the stub to the
 * handler, as for a site that never jumped.  Disabling a patch is a
 * transition, so its sites lose their jumps when it is prepared, and its
 * module goes only after every task has left its replacements.  Under
 * TCG (QEMU 7.2) a vCPU has been seen to keep running a stale translation
 * of a call site that holds the int3 of a finished text_poke_bp(), and to
 * loop in the int3 handler (README, "Performance"); these rewrites are two
 * more of each site per transition that involves it, all through the same
 * text_poke_bp() as ftrace's own, so they add no new kind of hazard.
 *
 * A stub is part of its site (site->text: a slot in a page of stubs) and
 * lives as long as the site, from before its address enters klp_ops'
 * filter until after it left it (ftrace asks for the site's trampoline
 * whenever it writes or checks the call, and the answer must not change
 * meanwhile).  When an address cannot leave the filter (klp_filter_stale)
 * its site stays hashed with an empty stack and its stub in handler mode
 * until klp_ftrace_resync() takes the address out; meanwhile a new
 * function at that address takes the site over, and no stub is made for
 * any new site, since the filter may hold its address with the handler
 * trampoline as the call.  The slot of a stub is freed after
 * klp_sync_handlers() (a CPU running it with preemption disabled, in the
 * idle loop too) and an RCU-tasks grace period (a task preempted in it;
 * under PREEMPT_NONE and VOLUNTARY without CONFIG_TASKS_RCU, a plain grace
 * period: no task is preempted in kernel code there), and the site with
 * it.
 *
 * With CPU isolation (isolcpus=, nohz_full=) there are no stubs: their
 * code changes would send IPIs to isolated CPUs, and freeing them would
 * need a schedule there.  Every call takes the handler, which keeps to
 * housekeeping CPUs (klp_sync_handlers()).  livepatch.direct=0 (boot, or
 * /sys/module/livepatch/parameters/direct) keeps every stub in handler
 * mode.
 */
#define KLP_STUBS_PER_PAGE	(PAGE_SIZE / KLP_STUB_SIZE)

struct klp_stub_page {
	struct list_head node;		/* in klp_stub_pages, by address */
	unsigned long text;		/* PAGE_SIZE of stub code */
	/* Free slots whose head is not the jump to the handler any more. */
	DECLARE_BITMAP(dirty, KLP_STUBS_PER_PAGE);
	/*
	 * The site of each slot, NULL: free.  Apart, as KLP_STUBS_PER_PAGE
	 * pointers fill a kmalloc() size class on their own.
	 */
	struct klp_site **site;
};

static void *klp_handler_tramp;
static bool klp_stubs_ok;
static bool klp_direct = true;
static LIST_HEAD(klp_stub_pages);
/* Dead sites past their grace periods; freed under klp_mutex. */
static LLIST_HEAD(klp_stubs_reclaimed);
/*
 * Sites whose busy equals klp_busy_gen are involved in the transition
 * that runs, while klp_busy_active (klp_direct_mark_busy()).  Should the
 * count wrap around onto the generation of a site left untouched since,
 * that site takes the handler until the transition ends: slower, not
 * wrong.
 */
static unsigned int klp_busy_gen;
static bool klp_busy_active;

/*
 * ftrace_ops::site_trampoline of klp_ops: the stub of @ip, or 0 for the
 * handler trampoline.  Called under ftrace_lock, maybe without klp_mutex
 * (another ftrace user changing a shared site): RCU protects the lookup.
 */
static unsigned long klp_site_trampoline(struct ftrace_ops *ops,
					 unsigned long ip)
{
	struct klp_site *site;
	unsigned long text;

	rcu_read_lock_sched();
	site = klp_site_find(ip);
	text = site ? site->text : 0;
	rcu_read_unlock_sched();
	return text;
}

/* The page of stubs that holds @text, and the slot there. */
static struct klp_stub_page *klp_stub_page_of(unsigned long text,
					      unsigned int *slot)
{
	struct klp_stub_page *page;

	list_for_each_entry(page, &klp_stub_pages, node) {
		if (text - page->text < PAGE_SIZE) {
			*slot = (text - page->text) / KLP_STUB_SIZE;
			return page;
		}
	}
	WARN_ON_ONCE(1);
	return NULL;
}

/* Free the dead sites whose grace periods are over, and their slots. */
static void klp_stubs_reclaim(void)
{
	struct klp_site *site, *tmp;
	struct klp_stub_page *page;
	struct llist_node *list;
	unsigned int slot;

	lockdep_assert_held(&klp_mutex);
	list = llist_del_all(&klp_stubs_reclaimed);
	llist_for_each_entry_safe(site, tmp, list, reclaim) {
		page = klp_stub_page_of(site->text, &slot);
		if (page) {
			/* Its head stayed as it was when it died. */
			if (site->direct)
				__set_bit(slot, page->dirty);
			page->site[slot] = NULL;
		}
		kmem_cache_free(klp_site_cache, site);
	}
}

/*
 * Make a page of code written by module_alloc()'s caller read-only and
 * executable; on failure it is freed.
 */
static bool klp_seal_text_page(void *text)
{
	set_vm_flush_reset_perms(text);
	if (!set_memory_ro((unsigned long)text, 1) &&
	    !set_memory_x((unsigned long)text, 1))
		return true;
	module_memfree(text);
	return false;
}

/* Not inlined, for test-fault-inject.sh: see klp_stub_get(). */
static noinline struct klp_stub_page *klp_stub_page_new(void)
{
	struct klp_stub_page *page, *pos;
	unsigned int i;
	u8 *text;

	page = kzalloc(sizeof(*page), GFP_KERNEL);
	if (!page)
		return NULL;
	page->site = kcalloc(KLP_STUBS_PER_PAGE, sizeof(*page->site),
			     GFP_KERNEL);
	if (!page->site)
		goto free;
	text = module_alloc(PAGE_SIZE);
	if (!text)
		goto free;
	/* Every slot made ready while the page is writable: see below. */
	for (i = 0; i < KLP_STUBS_PER_PAGE; i++) {
		unsigned long at = (unsigned long)text + i * KLP_STUB_SIZE;

		if (!klp_arch_stub_init(text + i * KLP_STUB_SIZE, at,
					(unsigned long)klp_handler_tramp)) {
			module_memfree(text);
			goto free;
		}
	}
	if (!klp_seal_text_page(text))
		goto free;
	page->text = (unsigned long)text;
	/* Kept by address, so that the passes over the stubs go in order. */
	list_for_each_entry(pos, &klp_stub_pages, node)
		if (pos->text > page->text)
			break;
	list_add_tail(&page->node, &pos->node);
	return page;
free:
	kfree(page->site);
	kfree(page);
	return NULL;
}

/* A free slot: its page and index; false when none could be made. */
static bool klp_stub_slot(struct klp_stub_page **pagep, unsigned int *slot)
{
	struct klp_stub_page *page;
	unsigned int i;

	list_for_each_entry(page, &klp_stub_pages, node)
		for (i = 0; i < KLP_STUBS_PER_PAGE; i++)
			if (!page->site[i])
				goto found;
	page = klp_stub_page_new();
	if (!page)
		return false;
	i = 0;
found:
	*pagep = page;
	*slot = i;
	return true;
}

/*
 * Give @site, new and not hashed yet, a stub in handler mode, or leave it
 * with the handler trampoline (no stubs, no memory, or the filter may hold
 * its address with the handler trampoline as the call: see above).  Not
 * inlined: test-fault-inject.sh knows the allocations under it, which may
 * fail, by its name.
 */
static noinline void klp_stub_get(struct klp_site *site)
{
	struct klp_stub_page *page;
	u8 code[KLP_STUB_SIZE];
	unsigned int slot;
	unsigned long text;

	lockdep_assert_held(&klp_mutex);

	if (!klp_stubs_ok || klp_filter_stale)
		return;

	klp_stubs_reclaim();
	if (!klp_stub_slot(&page, &slot))
		return;
	text = page->text + slot * KLP_STUB_SIZE;
	/*
	 * A slot that was direct when its last site died gets its code back
	 * (it runs nowhere: its grace periods are over); the others lead to
	 * the handler already, and their tail is rewritten before the head
	 * ever lets a call reach it.
	 */
	if (test_bit(slot, page->dirty)) {
		if (!klp_arch_stub_init(code, text,
					(unsigned long)klp_handler_tramp))
			return;
		text_poke_copy((void *)text, code, KLP_STUB_SIZE);
		__clear_bit(slot, page->dirty);
	}
	page->site[slot] = site;
	site->text = text;
}

static void klp_stubs_reclaim_fn(struct work_struct *work)
{
	mutex_lock(&klp_mutex);
	klp_stubs_reclaim();
	mutex_unlock(&klp_mutex);
}

static DECLARE_WORK(klp_stubs_reclaim_work, klp_stubs_reclaim_fn);

/*
 * The grace periods of a dead site with a stub are over: its slot and its
 * memory go back at once, from a work item on a housekeeping CPU (the
 * slot needs klp_mutex), or at the next klp_stub_get() if that comes
 * first.
 */
static void klp_stub_reclaim_rcu(struct rcu_head *rcu)
{
	struct klp_site *site = container_of(rcu, struct klp_site, rcu);

	if (llist_add(&site->reclaim, &klp_stubs_reclaimed))
		queue_work(system_unbound_wq, &klp_stubs_reclaim_work);
}

/*
 * Take @site, whose address left the filter (or never entered it) and
 * whose stack is empty, out of klp_sites, to be freed by
 * klp_batch_free_sites().
 */
static void klp_site_unhash(struct klp_site *site)
{
	WARN_ON_ONCE(!list_empty(&site->func_stack));
	hlist_del_rcu(&site->hash);
	site->dead = true;
}

/*
 * Free a dead site once no CPU and no task can be inside its stub.
 * Context: klp_mutex held, after klp_sync_handlers(), so no handler and
 * no ftrace lookup still looks at @site: its func_stack may give way to
 * the rcu_head.
 */
static void klp_site_release(struct klp_site *site)
{
	if (site->text)
		call_rcu_tasks(&site->rcu, klp_stub_reclaim_rcu);
	else
		kmem_cache_free(klp_site_cache, site);
}

static bool klp_direct_possible(void)
{
	return klp_stubs_ok && READ_ONCE(klp_direct);
}

/* The function a settled site runs, or NULL for one that needs the handler. */
static struct klp_func *klp_site_settled(struct klp_site *site)
{
	struct klp_func *top;

	top = list_first_entry_or_null(&site->func_stack, struct klp_func,
				       stack_node);
	if (!top || top->nop || top->transition)
		return NULL;
	return top;
}

/* Whether a transition runs that involves @site (racy outside klp_mutex). */
static bool klp_site_busy(struct klp_site *site)
{
	return READ_ONCE(klp_busy_active) &&
	       READ_ONCE(site->busy) == READ_ONCE(klp_busy_gen);
}

/**
 * klp_direct_mark_busy() - a transition of @patch is being prepared
 * @patch: the patch
 *
 * The sites of @patch's functions are involved in the transition: their
 * calls take the handler from the next klp_direct_update() on, until
 * klp_direct_clear_busy().  Sites made later by the transition have
 * functions in transition on top, which keeps them with the handler too.
 * Context: klp_mutex held.
 */
void klp_direct_mark_busy(struct klp_patch *patch)
{
	struct klp_object *obj;
	struct klp_func *func;
	struct klp_site *site;

	lockdep_assert_held(&klp_mutex);

	WRITE_ONCE(klp_busy_gen, klp_busy_gen + 1);
	klp_for_each_object(patch, obj) {
		if (!klp_object_present(obj))
			continue;
		klp_for_each_func(obj, func) {
			if (!func->old_func)
				continue;
			site = klp_site_find(klp_func_ip(func));
			if (site)
				WRITE_ONCE(site->busy, klp_busy_gen);
		}
	}
	WRITE_ONCE(klp_busy_active, true);
}

/**
 * klp_direct_clear_busy() - the transition is over for every task
 *
 * Context: klp_mutex held.
 */
void klp_direct_clear_busy(void)
{
	lockdep_assert_held(&klp_mutex);
	WRITE_ONCE(klp_busy_active, false);
}

/* Where @site's stub should lead now: a replacement, or 0 for the handler. */
static unsigned long klp_stub_want(struct klp_site *site)
{
	struct klp_func *top;

	if (!klp_direct_possible() || klp_site_busy(site))
		return 0;
	top = klp_site_settled(site);
	return top ? (unsigned long)top->new_func : 0;
}

/* Queue @insn for @site's stub's head (offset 0) or tail (KLP_STUB_TAIL). */
static void klp_stub_queue(struct klp_site *site, unsigned int off,
			   const u8 insn[JMP32_INSN_SIZE])
{
	text_poke_queue((void *)site->text + off, insn, JMP32_INSN_SIZE, NULL);
}

/*
 * Call @fn with every live site that has a stub, in the stubs' address
 * order, and with where the stub should lead now (klp_stub_want()); return
 * how many it rewrote.
 */
static unsigned int klp_stubs_pass(bool (*fn)(struct klp_site *site,
					      unsigned long want, void *arg),
				   void *arg)
{
	struct klp_stub_page *page;
	struct klp_site *site;
	unsigned int i, nr = 0;

	list_for_each_entry(page, &klp_stub_pages, node) {
		for (i = 0; i < KLP_STUBS_PER_PAGE; i++) {
			site = page->site[i];
			if (site && !site->dead &&
			    fn(site, klp_stub_want(site), arg))
				nr++;
		}
	}
	return nr;
}

/*
 * Pass 1: a direct stub that must stop going straight to its target gets
 * the jump to the handler.  *@retarget counts those that are to go
 * straight to another target.
 */
KLP_VISIBLE_IF_KUNIT bool klp_stub_leave(struct klp_site *site,
					 unsigned long want, void *retarget)
{
	u8 insn[JMP32_INSN_SIZE];

	if (!site->direct) {
		/* klp_site_keep_empty(): a task may still be past its head. */
		if (site->tail_unsynced && want && want != site->target)
			(*(unsigned int *)retarget)++;
		return false;
	}
	if (want == site->target)
		return false;
	if (want)
		(*(unsigned int *)retarget)++;
	klp_arch_stub_head(insn, site->text, (unsigned long)klp_handler_tramp,
			   false);
	klp_stub_queue(site, 0, insn);
	WRITE_ONCE(site->direct, false);
	return true;
}

/*
 * Pass 2: a stub that leads to the handler and may go straight to a new
 * target gets the jump to it.  A pass of its own, finished before pass 3:
 * a batch of text_poke_queue() holds at most TP_VEC_MAX instructions, and
 * a stub's nop must never take effect before its jump (a CPU could go on
 * to the old target).
 */
static bool klp_stub_aim(struct klp_site *site, unsigned long want,
			 void *unused)
{
	u8 insn[JMP32_INSN_SIZE];

	if (site->direct || !want || want == site->target ||
	    !klp_arch_stub_tail(insn, site->text, want))
		return false;
	klp_stub_queue(site, KLP_STUB_TAIL, insn);
	site->target = want;
	/* Pass 1 counted it, so the wait for tasks past its head is over. */
	site->tail_unsynced = false;
	return true;
}

/* Pass 3: such a stub gets the nop (a tail out of reach keeps the jump). */
static bool klp_stub_enter(struct klp_site *site, unsigned long want,
			   void *unused)
{
	u8 insn[JMP32_INSN_SIZE];

	if (site->direct || !want || want != site->target)
		return false;
	klp_arch_stub_head(insn, site->text, (unsigned long)klp_handler_tramp,
			   true);
	klp_stub_queue(site, 0, insn);
	WRITE_ONCE(site->direct, true);
	return true;
}

/*
 * Sites rewritten by klp_direct_update(), queued in chunks sorted by
 * address: text_poke_queue() ends its batch (three rounds of sync_core()
 * IPIs) at every address lower than the one before.  A static buffer, as
 * putting sites back must not fail for want of memory.  Protected by
 * klp_mutex (and filled and flushed under text_mutex).
 */
struct klp_site_poke {
	unsigned long ip;
	u8 insn[JMP32_INSN_SIZE];
};

#define KLP_SITE_POKES	256
static struct klp_site_poke klp_site_pokes[KLP_SITE_POKES];
static unsigned int klp_nr_site_pokes;

static int klp_site_poke_cmp(const void *a, const void *b)
{
	const struct klp_site_poke *pa = a, *pb = b;

	if (pa->ip != pb->ip)
		return pa->ip < pb->ip ? -1 : 1;
	return 0;
}

/* Queue the chunk of site rewrites in address order. */
static void klp_site_pokes_flush(void)
{
	unsigned int i;

	sort(klp_site_pokes, klp_nr_site_pokes, sizeof(klp_site_pokes[0]),
	     klp_site_poke_cmp, NULL);
	for (i = 0; i < klp_nr_site_pokes; i++)
		text_poke_queue((void *)klp_site_pokes[i].ip,
				klp_site_pokes[i].insn, JMP32_INSN_SIZE, NULL);
	klp_nr_site_pokes = 0;
}

static void klp_site_poke(unsigned long ip, const u8 insn[JMP32_INSN_SIZE])
{
	if (klp_nr_site_pokes == KLP_SITE_POKES)
		klp_site_pokes_flush();
	klp_site_pokes[klp_nr_site_pokes].ip = ip;
	memcpy(klp_site_pokes[klp_nr_site_pokes].insn, insn, JMP32_INSN_SIZE);
	klp_nr_site_pokes++;
}

/*
 * Whether @site holds @insn: a read of kernel text under
 * text_mutex, which every writer of live text holds (text_poke_bp() and
 * ftrace's updates included; only the text of a module not live yet is
 * written without it), so the five bytes cannot change meanwhile.
 */
static bool klp_site_holds(struct klp_site *site, const u8 insn[JMP32_INSN_SIZE])
{
	u8 cur[JMP32_INSN_SIZE];

	lockdep_assert_held(&text_mutex);
	return !copy_from_kernel_nofault(cur, (void *)site->ip, sizeof(cur)) &&
	       !memcmp(cur, insn, sizeof(cur));
}

/*
 * The two instructions of @site, which has a stub: @call, the call of the
 * stub as ftrace writes it, and @jmp, the jump to @target that stands in
 * for it (klp_site_jump()).  False when there is no target or either is
 * out of reach.
 */
static bool klp_site_insns(struct klp_site *site, unsigned long target,
			   u8 call[CALL_INSN_SIZE], u8 jmp[JMP32_INSN_SIZE])
{
	return target && klp_arch_site_call(call, site->ip, site->text) &&
	       klp_arch_site_jump(jmp, site->ip, target);
}

/*
 * Pass 0: a site that jumps straight to a target its stub does not keep
 * gets the call of its stub back, as ftrace wrote it.  A site without
 * functions (its address could not leave the filter) lost them with a
 * transition, which took the jump away when it was prepared, or with
 * their module (klp_module_going()): while ftrace still has a record of
 * the address the module's text is there, and ftrace may check the call
 * at any time (pass 1 takes away the alias it would accept), so the call
 * goes back; once the record went, the text may be freed and reused, and
 * the site is left alone.
 */
static bool klp_site_unjump(struct klp_site *site, unsigned long want,
			    void *unused)
{
	u8 call[CALL_INSN_SIZE], jmp[JMP32_INSN_SIZE];

	if (want == site->target ||
	    (list_empty(&site->func_stack) && !ftrace_location(site->ip)) ||
	    !klp_site_insns(site, site->target, call, jmp) ||
	    !klp_site_holds(site, jmp))
		return false;
	klp_site_poke(site->ip, call);
	return true;
}

/*
 * Pass 4: the site of a direct stub, where ftrace calls the stub (klp_ops
 * alone traces it), jumps straight to the stub's target instead.
 */
static bool klp_site_jump(struct klp_site *site, unsigned long want,
			  void *unused)
{
	u8 call[CALL_INSN_SIZE], jmp[JMP32_INSN_SIZE];

	if (!site->direct || want != site->target ||
	    !klp_site_insns(site, want, call, jmp) ||
	    !klp_site_holds(site, call))
		return false;
	klp_site_poke(site->ip, jmp);
	return true;
}

/* Run a pass over the sites (0 or 4) as batches of text_poke_queue(). */
static void klp_sites_pass(bool (*fn)(struct klp_site *site,
				      unsigned long want, void *arg))
{
	if (klp_stubs_pass(fn, NULL)) {
		klp_site_pokes_flush();
		text_poke_finish();
	}
}

/**
 * ftrace_site_alias() - whether @cur at @ip stands for @expected
 * @ip: an ftrace location that ftrace is about to rewrite
 * @expected: the instruction ftrace put there
 * @cur: the instruction there
 *
 * ftrace checks a call site before it rewrites it.  A site of klp_ops
 * whose stub is direct may jump straight to the stub's target
 * (klp_site_jump()) where ftrace wrote the call of the stub: the same
 * function runs, with the same stack, so ftrace may go on and write over
 * the jump.  Called under text_mutex, which klp_direct_update() holds
 * while it changes a stub's target or a site, and maybe without klp_mutex
 * (another ftrace user changing a shared site): RCU protects the lookup.
 *
 * Return: true when @cur is such a jump, @expected the stub's call and the
 * stub direct (pass 0 takes the jump away before the stub leaves that).
 */
bool ftrace_site_alias(unsigned long ip, const char *expected,
		       const char *cur)
{
	u8 call[CALL_INSN_SIZE], jmp[JMP32_INSN_SIZE];
	struct klp_site *site;
	bool alias = false;

	rcu_read_lock_sched();
	site = klp_site_find(ip);
	if (site && site->text && READ_ONCE(site->direct) &&
	    klp_site_insns(site, READ_ONCE(site->target), call, jmp))
		alias = !memcmp(expected, call, sizeof(call)) &&
			!memcmp(cur, jmp, sizeof(jmp));
	rcu_read_unlock_sched();
	return alias;
}

/**
 * klp_direct_update() - lead every stub where the stacks call for
 *
 * Context: klp_mutex held.  While a transition runs, the sites it involves
 * are called through the handler (klp_direct_mark_busy()); every other
 * site with a settled top goes straight to it.
 */
void klp_direct_update(void)
{
	unsigned int retarget = 0;

	lockdep_assert_held(&klp_mutex);

	if (!klp_stubs_ok)
		return;

	mutex_lock(&text_mutex);
	klp_sites_pass(klp_site_unjump);
	if (klp_stubs_pass(klp_stub_leave, &retarget))
		text_poke_finish();
	mutex_unlock(&text_mutex);
	if (retarget) {
		/* A task or CPU may be past the nop of such a stub. */
		klp_sync_handlers();
		synchronize_rcu_tasks();
	}
	mutex_lock(&text_mutex);
	if (klp_stubs_pass(klp_stub_aim, NULL))
		text_poke_finish();
	if (klp_stubs_pass(klp_stub_enter, NULL))
		text_poke_finish();
	klp_sites_pass(klp_site_jump);
	mutex_unlock(&text_mutex);
}

/**
 * klp_func_stub_range() - the stub that calls of @func's site go through
 * @func: a patched function
 * @range: filled in with the stub's code, if it has one
 *
 * Context: klp_mutex held.
 *
 * Return: whether @range was filled in.
 */
bool klp_func_stub_range(struct klp_func *func, struct klp_range *range)
{
	struct klp_site *site;

	lockdep_assert_held(&klp_mutex);

	site = klp_site_find(klp_func_ip(func));
	if (!site || !site->text)
		return false;
	range->start = site->text;
	range->end = range->start + KLP_STUB_SIZE;
	range->name = func->old_name;
	return true;
}

/*
 * How calls of @top, the top of @site's stack, reach it: see
 * klp_func_call_mode().  Context: preemption disabled, which keeps the
 * site and its stub from being freed (klp_sync_handlers()).
 */
static const char *klp_site_call_mode(struct klp_site *site,
				      struct klp_func *top)
{
	unsigned long target;

	static_assert(sizeof("handler no-trampoline") - 1 == KLP_CALL_MODE_MAX);

	if (!klp_handler_tramp)
		return "handler no-trampoline";
	if (!klp_stubs_ok)
		return "handler isolation";
	if (READ_ONCE(top->transition) || klp_site_busy(site))
		return "handler transition";
	if (!READ_ONCE(klp_direct))
		return "handler off";
	if (!site->text)
		return "handler no-stub";
	target = klp_arch_site_target(site->ip);
	if (target <= 1)
		return target ? "handler updating" : "handler untraced";
	/* The site jumps straight there (klp_site_jump()). */
	if (target == (unsigned long)top->new_func)
		return "direct";
	if (target != site->text)
		return "handler shared";
	if (!READ_ONCE(site->direct))
		return "handler settling";
	return "direct stub";
}

/**
 * klp_func_call_mode() - how calls of a patched function are served now
 * @func: a function of a registered patch
 *
 * For the function's line of the "calls" file of its object's sysfs
 * directory:
 *  - "direct": the site jumps straight to @func's replacement (see "Calls
 *    without the handler" above);
 *  - "direct stub": the site calls its stub, which jumps to the
 *    replacement (ftrace wrote the call again after another user of the
 *    site left, until the next klp_direct_update(); or the replacement is
 *    out of a jump's reach from the site);
 *  - "handler <why>": every call goes through klp_ftrace_handler():
 *    "transition" (a transition runs), "off" (livepatch.direct=0),
 *    "isolation" (CPU isolation: no stubs), "shared" (another ftrace
 *    user traces the function, so ftrace calls its list of ops),
 *    "updating" (ftrace is rewriting the call site), "untraced" (ftrace
 *    stopped tracing it: ftrace_kill()), "no-stub" (none could be made
 *    for the site), "settling" (klp_direct_update() is on its way),
 *    "no-trampoline" (the handler trampoline could not be made at boot,
 *    ftrace's own serves klp_ops);
 *  - "superseded": a newer patch's replacement runs instead;
 *  - "unpatched": @func is not on its function's stack (its object is not
 *    loaded, or the patch is not enabled).
 *
 * Context: any task context.  The "calls" file holds klp_mutex, which keeps
 * @func and its site from going; without it the answer is a snapshot
 * taken with preemption disabled, which keeps the site from being freed
 * (klp_sync_handlers()).
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
	mode = klp_site_call_mode(site, top);
out:
	preempt_enable();
	return mode;
}

static int klp_direct_set(const char *val, const struct kernel_param *kp)
{
	int ret;

	/* On the command line: before klp_direct_init(), no stub to change. */
	if (!klp_handler_tramp)
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

/* Whether the boot isolated CPUs (no stubs then: see above). */
static bool __init klp_cpus_isolated(void)
{
#ifdef CONFIG_CPU_ISOLATION
	return static_branch_unlikely(&housekeeping_overridden);
#else
	return false;
#endif
}

/*
 * klp_direct_init() - make the cache of sites, klp_ops' handler trampoline
 * and its stubs
 *
 * Called once at boot, before klp_ops can be registered.  On failure klp_ops
 * keeps the trampoline ftrace makes for it, and there are no stubs.  The
 * trampoline and the stubs have no symbol: in a stack dump their addresses
 * show as "?" entries (and a task preempted there has an unreliable stack,
 * which the design relies on).
 */
void __init klp_direct_init(void)
{
	u8 code[KLP_TRAMP_MAX];
	unsigned int len;
	void *mem;

	BUILD_BUG_ON(KLP_TRAMP_MAX > PAGE_SIZE);
	BUILD_BUG_ON(PAGE_SIZE % KLP_STUB_SIZE);

	klp_site_cache = KMEM_CACHE(klp_site, SLAB_PANIC);

	mem = module_alloc(PAGE_SIZE);
	if (!mem)
		goto fail;
	len = klp_arch_write_handler_tramp(code, (unsigned long)mem,
					   (unsigned long)klp_ftrace_handler,
					   (unsigned long)&klp_ops);
	if (!len)
		goto free;
	memset(mem, INT3_INSN_OPCODE, PAGE_SIZE);
	memcpy(mem, code, len);
	if (!klp_seal_text_page(mem))
		goto fail;
	klp_handler_tramp = mem;
	klp_ops.trampoline = (unsigned long)mem;
	if (klp_cpus_isolated())
		return;
	klp_stubs_ok = true;
	klp_ops.site_trampoline = klp_site_trampoline;
	return;
free:
	module_memfree(mem);
fail:
	pr_warn("no handler trampoline: patched functions are always called through ftrace's\n");
}

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
	site->batch_next = batch->sites;
	batch->sites = site;
	batch->ips[batch->nr++] = site->ip;
}

static void klp_batch_init(struct klp_batch *batch)
{
	batch->sites = NULL;
	batch->nr = 0;
}

/*
 * @site stays hashed without functions.  Its stub may have been direct
 * until now, and leaves that at the next klp_direct_update() with no wait
 * (a stub that is to lead nowhere waits for nothing): a task preempted
 * past its head may still be on its way to the old target when a module
 * loaded at the same address reuses the site (klp_push_func()) and gives
 * the stub a new one.  So that change waits first (klp_stub_leave()).
 */
static void klp_site_keep_empty(struct klp_site *site)
{
	if (site->text)
		site->tail_unsynced = true;
}

/*
 * Free the dead sites of @batch once no handler can still be looking at
 * them (those with a stub once no task can be inside it either).  The
 * others stay hashed, without functions: their addresses may still be in
 * the filter (klp_filter_stale).  The wait is for those too: a handler
 * may still hold a function just taken off their stacks, and the caller
 * may free it next (the nops, klp_drop_nops()).
 */
KLP_VISIBLE_IF_KUNIT void klp_batch_free_sites(struct klp_batch *batch)
{
	struct klp_site *site, *next;

	if (batch->sites)
		klp_sync_handlers();
	for (site = batch->sites; site; site = next) {
		next = site->batch_next;
		if (site->dead)
			klp_site_release(site);
		else
			klp_site_keep_empty(site);
	}
	batch->sites = NULL;
}

/* The stubs of @batch's sites are now called by ftrace, or may be. */
static void klp_batch_traced(struct klp_batch *batch)
{
	struct klp_site *site;

	for (site = batch->sites; site; site = site->batch_next)
		site->traced = true;
}

/* ... or are not, and never were. */
static void klp_batch_untraced(struct klp_batch *batch)
{
	struct klp_site *site;

	for (site = batch->sites; site; site = site->batch_next)
		site->traced = false;
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
	klp_batch_traced(batch);

	if (klp_ops_registered)
		return 0;

	/* Fails with -EBUSY while sysctl kernel.ftrace_enabled is 0. */
	*step = "register ftrace handler";
	ret = register_ftrace_function(&klp_ops);
	if (ret) {
		/*
		 * Not registered, so ftrace never called the stubs: they go
		 * with their sites even if the addresses stay in the filter.
		 */
		if (klp_ftrace_filter(batch->ips, batch->nr, 1, 0))
			klp_filter_stale = true;
		klp_batch_untraced(batch);
		return ret;
	}
	klp_ops_registered = true;
	return 0;
}

/*
 * Stop tracing the addresses collected in @batch, whose sites have no
 * functions any more, and unhash those sites.  When no site is left with
 * functions the ops is unregistered first, so that it never runs with an
 * empty filter.
 */
static void klp_ftrace_remove(struct klp_batch *batch)
{
	struct klp_site *site;
	unsigned int i;
	int ret;

	if (!batch->nr)
		return;

	if (!klp_nr_sites && klp_ops_registered) {
		WARN_ON(unregister_ftrace_function(&klp_ops));
		klp_ops_registered = false;
	}
	ret = klp_ftrace_filter(batch->ips, batch->nr, 1, 0);
	if (ret) {
		/* Their sites stay, for as long as ftrace may call them. */
		pr_warn("failed to remove %u address%s from the ftrace filter (%d)\n",
			batch->nr, batch->nr == 1 ? "" : "es", ret);
		klp_filter_stale = true;
	} else {
		for (i = 0; i < batch->nr; i++) {
			site = klp_site_find(batch->ips[i]);
			if (!WARN_ON_ONCE(!site))
				klp_site_unhash(site);
		}
	}
	batch->nr = 0;
}

/*
 * Free the sites without functions that stayed after a failed removal
 * from the filter: the filter holds exactly the addresses of the sites
 * with functions again.
 */
static void klp_release_orphan_sites(void)
{
	struct klp_site *site;
	struct hlist_node *tmp;
	struct klp_batch batch;
	unsigned int bkt;

	klp_batch_init(&batch);
	for (bkt = 0; bkt < ARRAY_SIZE(klp_sites); bkt++) {
		hlist_for_each_entry_safe(site, tmp, &klp_sites[bkt], hash) {
			if (!list_empty(&site->func_stack))
				continue;
			klp_site_unhash(site);
			site->batch_next = batch.sites;
			batch.sites = site;
		}
	}
	klp_batch_free_sites(&batch);
}

/*
 * After a failed removal, make the filter hold exactly the addresses of
 * the sites with functions again.  Failing once more leaves it as it was,
 * for the next try.
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
				if (!list_empty(&site->func_stack))
					ips[nr++] = site->ip;
		/* Replaces the whole filter; empty only while unregistered. */
		ret = klp_ftrace_filter(ips, nr, 0, 1);
		kfree(ips);
	}
	if (!ret) {
		klp_filter_stale = false;
		klp_release_orphan_sites();
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

	/* Hashed until its address left the filter: klp_ftrace_remove(). */
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
		site = kmem_cache_zalloc(klp_site_cache, GFP_KERNEL);
		if (!site)
			return -ENOMEM;
		site->ip = ip;
		INIT_LIST_HEAD(&site->func_stack);
		klp_stub_get(site);
		/* Publishes the stub for klp_site_trampoline(). */
		hlist_add_head_rcu(&site->hash, klp_site_bucket(ip));
	}
	/* New, or left without functions in the filter: see klp_ftrace_add(). */
	if (list_empty(&site->func_stack)) {
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
	klp_batch_init(batch);
	batch->ips = klp_unpatch_ips;
	batch->max = ARRAY_SIZE(klp_unpatch_ips);
}

/* Before klp_ftrace_resync(), which may free the batch's sites that stay. */
static void klp_unpatch_batch_finish(struct klp_batch *batch)
{
	klp_ftrace_remove(batch);
	klp_batch_free_sites(batch);
	klp_ftrace_resync();
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
 * Undo a failed klp_redirect_object().  Only the sites it gave functions
 * (those on @batch) can become empty.  Their addresses left the filter,
 * or never entered it, unless it is stale: those that may still be there
 * (traced) stay hashed without functions, the others are freed.
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

	for (site = batch->sites; site; site = site->batch_next) {
		klp_nr_sites--;
		if (!site->traced)
			klp_site_unhash(site);
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
 * of @obj stays patched.  New sites are called through the handler until
 * the caller's klp_direct_update() (a transition's end, or the end of a
 * module's coming, once for all patches).
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

	klp_batch_init(&batch);
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
	return ret;
}

/**
 * klp_restore_object() - stop redirecting the functions of one object
 * @obj: a patched object
 *
 * The caller puts the stubs right afterwards (klp_direct_update()).
 */
void klp_restore_object(struct klp_object *obj)
{
	struct klp_batch batch;

	klp_unpatch_batch_init(&batch);
	klp_pop_object(obj, false, &batch);
	klp_unpatch_batch_finish(&batch);
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
