// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The per-task consistency model.
 *
 * A transition moves every task from one patch state to the other.  While
 * it runs, the functions of the transition patch have func->transition set
 * and the ftrace handler picks old or new code from the calling task's
 * patch_state, so each task sees either all old or all new functions of the
 * patch, never a mix.
 *
 * A task switches
 *  - when a check of its stack (reliable unwinding) shows that it is not
 *    inside any function the transition changes (klp_check_task()), or
 *  - itself, on its way back to user space, in the idle loop or in
 *    cond_resched(), when it finds TIF_PATCH_PENDING set
 *    (klp_update_patch_state()).
 *
 * Tasks are marked with TIF_PATCH_PENDING lazily: only those that a round
 * could not switch (klp_check_task()) and those that a counting walk finds
 * still to switch (klp_task_mark_pending()).  Most tasks sleep outside the
 * functions of a patch and the first round switches them; marking every
 * task up front would cost a walk over all of them, and a locked operation
 * on the shared count for each one the round then switches.  Whether a
 * task has to switch is its patch_state, never its mark.
 *
 * Completion is prompt without extra rounds: the transition counts the
 * marked tasks (klp_trans.nr_pending), a task that switches itself counts
 * itself off, and the one that brings the count to zero kicks the
 * transition work, which then finds every task switched.
 * Tasks that switch themselves one after the other therefore cost no round
 * each.  A user task found running on another (housekeeping) CPU gets a
 * reschedule IPI so that it switches on its way back to user space at once,
 * not at the next tick.  Retries of tasks that stay blocked back off from
 * KLP_RETRY_MIN to KLP_RETRY_MAX and, when few tasks are left, look only at
 * those instead of walking every task again (klp_switch_tasks()).  Tasks
 * still blocked after KLP_SIGNAL_PERIOD get a fake signal (user tasks) or
 * a wake-up (kernel threads).
 *
 * CPU isolation: the transition work runs on an unbound workqueue, so on
 * housekeeping CPUs only, and tasks running on isolated or nohz_full CPUs
 * get no IPI from a round; they switch on their next exit from the kernel,
 * or at the fake signal.  An idle isolated CPU is woken once per transition
 * so that its idle task switches (klp_wake_idle_cpu()).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/ftrace.h>
#include <linux/kallsyms.h>
#include <linux/moduleparam.h>
#include <linux/livepatch_sched.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched/isolation.h>
#include <linux/sched/signal.h>
#include <linux/sched/stat.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/stacktrace.h>
#include <linux/workqueue.h>
#include <asm/livepatch.h>
#include "internal.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

#define KLP_MAX_STACK_ENTRIES	100
#define KLP_RETRY_MIN		max(HZ / 100, 1)
#define KLP_RETRY_MAX		HZ
#define KLP_SIGNAL_PERIOD	(15 * HZ)
#define KLP_MAX_LEFT		128

struct klp_patch *klp_trans_patch;
int klp_trans_target = KLP_UNDEFINED;

/*
 * The state of the running transition, besides klp_trans_patch and
 * klp_trans_target (which the rest of the core reads under klp_mutex).
 *
 * Locking: everything is protected by klp_mutex, held by the transition
 * work and by every caller of the klp_trans_*() functions, except
 *  - blockers and nr_blockers, which the walkers of a shared round
 *    (klp_walk_help()) fill while the leader holds klp_mutex: each walker
 *    claims its slot with an atomic increment;
 *  - left, nr_left and left_valid, which the walkers of a shared round
 *    fill in the same way (klp_left_add());
 *  - kick and nr_pending, which tasks switching themselves
 *    (klp_update_patch_state()) and forks (klp_copy_process()) change
 *    without any lock, with atomic operations.
 */
static struct {
	/* Scratch space for the stack checks of the leader of a round. */
	unsigned long stack_entries[KLP_MAX_STACK_ENTRIES];

	/*
	 * The code ranges that no task may be inside when it switches,
	 * sorted by start address, rebuilt for every round.
	 */
	struct klp_range *ranges;
	unsigned int nr_ranges;

	/*
	 * The blockers found by the last round, at most KLP_MAX_BLOCKERS of
	 * them (which ones, when a shared round finds more, depends on the
	 * order in which the walkers get to them); nr_blockers counts them
	 * all.
	 */
	struct klp_blocker blockers[KLP_MAX_BLOCKERS];
	atomic_t nr_blockers;

	unsigned long nr_nudged;	/* fake signals and wake-ups */
	ktime_t started_at;
	unsigned long next_signal;	/* jiffies */
	unsigned long retry_delay;	/* jiffies */
	unsigned int nr_counted;	/* see klp_count_pending_tasks() */

	/* Whether the last task to switch itself kicks a round: KLP_KICK_*. */
	atomic_t kick;

	/* Isolated CPUs whose idle task this transition woke already. */
	struct cpumask woken_isolated;

	/*
	 * The tasks (but the idle tasks) that the last full round could not
	 * switch, or that the last counting walk found still to switch,
	 * pinned, when there were at most KLP_MAX_LEFT of them (left_valid);
	 * see "Rounds over the tasks left" below.
	 */
	struct task_struct *left[KLP_MAX_LEFT];
	atomic_t nr_left;
	bool left_valid;

	/*
	 * Whether the list was made by a walk that met every task, and the
	 * count of forks by tasks still to switch when that walk began; see
	 * klp_list_whole().
	 */
	bool list_whole;
	unsigned long forks_at;

	/*
	 * Marked tasks: incremented before a task's TIF_PATCH_PENDING is set
	 * (klp_flag_pending(), klp_mark_pending()), decremented by whoever
	 * clears a set flag (klp_unflag_pending()).  Tasks that exit
	 * with the flag set are counted off only when a round finds them
	 * gone, or by the next counting walk that finds tasks left, which
	 * brings the count to what it found (klp_rebase_pending()).  The count
	 * only decides when to kick a round; whether the transition is
	 * complete is decided by a walk over every task (klp_list_whole()).
	 */
	atomic_t nr_pending;
} klp_trans;

/*
 * Rounds run here: an unbound, high-priority workqueue.  Unbound workers
 * run on housekeeping CPUs only (the workqueue's cpumask leaves out
 * isolated and nohz_full CPUs), and at nice -20 they preempt CPU-bound
 * tasks at once.  System_highpri_wq only if the allocation at boot failed.
 */
static struct workqueue_struct *klp_trans_wq;

static bool klp_trans_advance(void);
static void klp_trans_work_fn(struct work_struct *work);
/* Switching in cond_resched(): the block at the end of this file. */
static void klp_sched_begin(void);
static void klp_sched_finish(void);
static void klp_sched_note_blocked(struct task_struct *task, int ret);
static void __init klp_init_trace_cut(void);
/*
 * The rounds of checks, on klp_trans_wq.  A round is bounded work (one
 * stack check of each task not yet switched), so the higher priority
 * starves no one for long, though with many tasks it is not short.
 */
static DECLARE_DELAYED_WORK(klp_trans_work, klp_trans_work_fn);

static void klp_queue_round(unsigned long delay)
{
	mod_delayed_work(klp_trans_wq, &klp_trans_work, delay);
}

/**
 * klp_trans_init() - set up the transition's workqueue, at boot
 *
 * Return: 0; without the workqueue rounds run on system_highpri_wq.
 */
int __init klp_trans_init(void)
{
	klp_init_trace_cut();
	klp_trans_wq = alloc_workqueue("klp_transition",
				       WQ_UNBOUND | WQ_HIGHPRI, 1);
	if (!klp_trans_wq) {
		pr_warn("no workqueue for transitions, using system_highpri_wq\n");
		klp_trans_wq = system_highpri_wq;
	}
	return 0;
}

static const char *klp_state_name(int state)
{
	return state == KLP_PATCHED ? "patching" : "unpatching";
}

/*
 * The kick.  A task that brings the count of marked tasks to zero as it
 * switches itself kicks the next round, so that the transition completes
 * at once, when the kick is armed: between rounds.  During a round, which
 * marks tasks as it goes, a task it marked early could bring the count to
 * zero while later ones are still unmarked, and kick a round of no use;
 * so there the kick is off, and a task that would have kicked only notes
 * that it was missed, and the round, when it ends, runs the next one at
 * once.  Tasks and rounds change the one word with fully ordered atomics,
 * so no kick is lost and none is doubled.
 */

/*
 * The last marked task switched itself: true when the caller is to run
 * the next round now (the kick was armed, and is off from here on).
 */
KLP_VISIBLE_IF_KUNIT bool klp_kick_take(atomic_t *kick)
{
	int old = atomic_read(kick);

	do {
		if (old == KLP_KICK_MISSED)
			return false;
	} while (!atomic_try_cmpxchg(kick, &old,
				     old == KLP_KICK_ARMED ? KLP_KICK_OFF :
							    KLP_KICK_MISSED));
	return old == KLP_KICK_ARMED;
}

/*
 * A round that left tasks to switch ends: arm the kick; true when the
 * caller is to run the next round now (a kick was missed meanwhile, and
 * no task took the kick just armed).
 */
KLP_VISIBLE_IF_KUNIT bool klp_kick_arm(atomic_t *kick)
{
	return atomic_xchg(kick, KLP_KICK_ARMED) == KLP_KICK_MISSED &&
	       atomic_cmpxchg(kick, KLP_KICK_ARMED,
			      KLP_KICK_OFF) == KLP_KICK_ARMED;
}

/* Called when the last marked task switched itself: complete now. */
static void klp_kick_transition(void)
{
	if (klp_kick_take(&klp_trans.kick))
		klp_queue_round(0);
}

/* After a round that left tasks to switch: arm the kick, or kick now. */
static void klp_arm_kick(void)
{
	if (klp_kick_arm(&klp_trans.kick))
		klp_queue_round(0);
}

/*
 * Mark @task as one that has to switch.  Counted first, so that the task
 * cannot count itself off before it was counted.
 */
static void klp_flag_pending(struct task_struct *task)
{
	atomic_inc(&klp_trans.nr_pending);
	set_tsk_thread_flag(task, TIF_PATCH_PENDING);
}

/*
 * Mark @task, which has to switch and is not being forked, so that it
 * switches itself at its next safe point.  Two walkers of a shared round
 * may mark the same task at once: the one that finds the flag set already
 * takes its count back.  A task found blocked may have switched itself
 * since (clearing an older mark on its way to user space): the mark is
 * then stale, and only counted off when the task clears it
 * (klp_update_patch_state()).
 */
static void klp_mark_pending(struct task_struct *task)
{
	if (klp_patch_pending(task))
		return;
	atomic_inc(&klp_trans.nr_pending);
	if (test_and_set_tsk_thread_flag(task, TIF_PATCH_PENDING))
		atomic_dec(&klp_trans.nr_pending);
}

/*
 * Clear @task's mark, if it has one, and count it off.  Return true when it
 * was the last task counted.  The test-and-clear makes each mark counted
 * off exactly once, whoever clears it.
 */
static bool klp_unflag_pending(struct task_struct *task)
{
	/*
	 * Most tasks a walk passes have no mark: a plain read spares them the
	 * locked read-modify-write.  Marks are set on a child being forked,
	 * which no walk sees yet, and by the rounds and counts, under
	 * klp_mutex, which the caller holds (or, a walker of a shared round,
	 * its leader).  A walker marking @task just after the read below
	 * leaves a stale mark, which is harmless (see klp_task_switched()).
	 */
	if (!test_tsk_thread_flag(task, TIF_PATCH_PENDING))
		return false;
	if (!test_and_clear_tsk_thread_flag(task, TIF_PATCH_PENDING))
		return false;
	return atomic_dec_and_test(&klp_trans.nr_pending);
}

/*
 * After a counting walk that found @counted tasks still to switch: no more
 * than those can still have to switch, so drop what the count has above
 * that, i.e. tasks that exited with their mark.  A task counting itself off
 * meanwhile makes the result too high, which delays the kick until the
 * next retry's round.  A task forked by a marked parent during the counting
 * walk (whose ID the walk had passed) or after it, before the read below,
 * makes it too low: the kick then comes early, or the count went below
 * zero, where no kick comes, and is brought back up here.  Neither decides
 * anything: a kicked round decides nothing from the count, and while tasks
 * are left the retries go on.
 */
static void klp_rebase_pending(unsigned int counted)
{
	int now = atomic_read(&klp_trans.nr_pending);

	if (now > (int)counted || now < 0)
		atomic_sub(now - (int)counted, &klp_trans.nr_pending);
}

static void klp_schedule_retry(void)
{
	unsigned long delay = klp_trans.retry_delay;

	queue_delayed_work(klp_trans_wq, &klp_trans_work, delay);
	klp_trans.retry_delay = min_t(unsigned long, delay * 2, KLP_RETRY_MAX);
}

static void klp_trans_work_fn(struct work_struct *work)
{
	mutex_lock(&klp_mutex);
	if (klp_trans_patch)
		klp_trans_advance();
	mutex_unlock(&klp_mutex);
}

/*
 * Whether @task has yet to reach the target state of the transition.  Its
 * mark (TIF_PATCH_PENDING) does not tell: it is set lazily, and may be
 * stale (see the top of this file).
 */
static bool klp_task_to_switch(const struct task_struct *task)
{
	return READ_ONCE(task->patch_state) != klp_trans_target;
}

/*
 * Switch @task to @target, the target state of the transition; it must not
 * be in code that the transition leaves behind.
 */
KLP_VISIBLE_IF_KUNIT void klp_switch_task(struct task_struct *task, int target)
{
	klp_unflag_pending(task);
	/* Forks read it without the walks' exclusion: see klp_walk_ids(). */
	WRITE_ONCE(task->patch_state, target);
}

/*
 * Walking the task list without stalling the machine.
 *
 * No walk of livepatch holds tasklist_lock across tasks.  The walks that
 * must meet every task (klp_each_task(), the counts of
 * klp_count_pending_tasks()) go through the thread groups in the order of
 * their process IDs (find_ge_pid()), under rcu_read_lock() only, and each
 * group's threads through its thread list (klp_walk_ids()).  After every
 * KLP_WALK_BATCH tasks or IDs they pause: drop the RCU read lock, let the
 * scheduler in, and go on from the next process ID.  The ID needs no task
 * to stand on, so nothing that happens during such a pause cuts the walk
 * short.  A group of more than KLP_WALK_BATCH threads pauses inside, on a
 * pinned thread (klp_walk_pause_thread()); if that thread is gone by the
 * end of the pause, the group is found again by its ID and swept once more
 * from its start, this time without pausing (one RCU read-side section
 * over the group: preemptible with PREEMPT_RCU, which every kernel with
 * PREEMPT_DYNAMIC or PREEMPT has; with PREEMPT_NONE or VOLUNTARY and no
 * PREEMPT_DYNAMIC, as long as the group is big).  The functions such walks
 * apply are idempotent.  tasklist_lock is only taken for a moment, around
 * no task: to tell forks which function a walk applies
 * (klp_fork_walk_set()), and to read the count of forks (klp_read_forks()).
 *
 * Why such a walk meets every task it has to:
 *  - A group that exists throughout the walk keeps its process ID: exec()
 *    by a thread that is not the leader moves the group's ID to that
 *    thread, still in the group.  An RCU walk of the ID tree finds every
 *    ID present throughout, and one of a group's thread list
 *    (signal->thread_head, whichever thread leads the group) every thread
 *    in it throughout.
 *  - Tasks forked during the walk may get an ID that the walk has passed.
 *    klp_copy_process() therefore applies the walk's function to them
 *    (klp_fork_walk), in the hold of tasklist_lock for writing in which
 *    fork attaches the child's IDs (alloc_pid() made them earlier, but
 *    until then they lead to no task) and links it.  The function is set
 *    and cleared with tasklist_lock held for reading.  So a fork finished
 *    before the walk began (its child is found like any other task), sees
 *    the function, or comes after the walk, from a parent that the walk
 *    or an earlier fork gave the function already.  The counts apply
 *    nothing to children; they compare the count of forks by tasks still
 *    to switch before and after the walk instead (klp_list_whole()).
 *  - Exits: a task gone needs nothing.
 *
 * The rounds' stack checks walk the process list under RCU and pause on a
 * pinned thread every KLP_WALK_CHUNK tasks; a round whose thread is gone
 * after a pause stops and decides nothing from its walk (klp_walk_chunks()).
 */
#define KLP_WALK_BATCH		64

/*
 * Whether @t is still hashed: unhashed (and unlinked from the task lists)
 * with tasklist_lock held for writing, but read without it.  Even a stale
 * "hashed" read is enough to follow @t's next pointers under RCU: what
 * comes after @t can only be unlinked after @t's own unhash, so the grace
 * period that may free it ends after the RCU read-side section of the read.
 */
static bool klp_task_hashed(const struct task_struct *t)
{
	return READ_ONCE(t->thread_pid);
}

/* Let the scheduler in during an RCU walk: no task is held meanwhile. */
static void klp_rcu_pause(void)
	__must_hold(RCU)
{
	rcu_read_unlock();
	cond_resched();
	rcu_read_lock();
}

/*
 * A walk pauses standing on thread @t of process @g: keep both from being
 * freed meanwhile (klp_walk_pin()), and afterwards tell whether the walk
 * can go on from @t (klp_walk_unpin()).
 */
static void klp_walk_pin(struct task_struct *g, struct task_struct *t)
{
	get_task_struct(g);
	get_task_struct(t);
}

static bool klp_walk_unpin(struct task_struct *g, struct task_struct *t)
{
	/*
	 * A leader that exec() replaced keeps a pid for a while, but has left
	 * the process list at once and is no longer a group leader.
	 */
	bool alive = klp_task_hashed(g) && thread_group_leader(g) &&
		     klp_task_hashed(t);

	put_task_struct(t);
	put_task_struct(g);
	return alive;
}

/* Pause a walk under rcu_read_lock(); true when it can go on from @t. */
static bool klp_walk_pause_rcu(struct task_struct *g, struct task_struct *t)
	__must_hold(RCU)
{
	klp_walk_pin(g, t);
	klp_rcu_pause();
	return klp_walk_unpin(g, t);
}

/*
 * Pause a walk under rcu_read_lock() inside a thread group, standing on
 * thread @t; true when it can go on from @t.  The group's leader may be
 * gone meanwhile (exec() by another thread releases it): the walk goes on
 * through the group's signal_struct, which the pinned @t keeps.
 */
static bool klp_walk_pause_thread(struct task_struct *t)
	__must_hold(RCU)
{
	bool alive;

	get_task_struct(t);
	klp_rcu_pause();
	alive = klp_task_hashed(t);
	put_task_struct(t);
	return alive;
}

/*
 * The function that klp_copy_process() applies to a new task while a walk
 * of klp_each_task() runs, and its argument.  Written with tasklist_lock
 * held for reading (and klp_mutex, so by one walk at a time), read with it
 * held for writing: never at the same time.
 */
static struct {
	klp_task_fn fn;
	int arg;
} klp_fork_walk;

KLP_VISIBLE_IF_KUNIT void klp_fork_walk_set(klp_task_fn fn, int arg)
{
	read_lock(&tasklist_lock);
	klp_fork_walk.fn = fn;
	klp_fork_walk.arg = arg;
	read_unlock(&tasklist_lock);
}

/* Whether @t is the last thread of the thread list at @head, for now. */
static bool klp_last_thread(const struct task_struct *t,
			    const struct list_head *head)
{
	return READ_ONCE(t->thread_node.next) == head;
}

/*
 * Apply @fn to every thread of the group of @leader; *@nr counts the tasks
 * and IDs since the walk last paused.  With @pause, a walk that reaches
 * KLP_WALK_BATCH of them inside a group, not at its last thread, pauses
 * there; return false when the thread it stood on is gone after the pause:
 * the rest of the group then went without @fn.
 */
static bool klp_walk_group(struct task_struct *leader, klp_task_fn fn,
			   int arg, unsigned int *nr, bool pause)
	__must_hold(RCU)
{
	/* Read once: @leader may be freed during a pause, @sig is not. */
	struct signal_struct *sig = leader->signal;
	struct task_struct *t;

	__for_each_thread(sig, t) {
		fn(t, arg);
		if (++*nr < KLP_WALK_BATCH || !pause ||
		    klp_last_thread(t, &sig->thread_head))
			continue;
		*nr = 0;
		if (!klp_walk_pause_thread(t))
			return false;
	}
	return true;
}

/* The group whose ID (in the initial namespace) is @id, if any. */
static struct task_struct *klp_find_group(int id)
	__must_hold(RCU)
{
	return pid_task(find_pid_ns(id, &init_pid_ns), PIDTYPE_TGID);
}

/*
 * Apply @fn to every task but the idle tasks, in the order of their groups'
 * IDs, pausing every KLP_WALK_BATCH tasks or IDs (see above).
 */
KLP_VISIBLE_IF_KUNIT void klp_walk_ids(klp_task_fn fn, int arg)
{
	struct task_struct *leader;
	unsigned int nr = 0;
	struct pid *pid;
	int id = 1;

	rcu_read_lock();
	while ((pid = find_ge_pid(id, &init_pid_ns))) {
		id = pid_nr(pid);
		nr++;
		/* Only a group's own ID leads to it; a thread's does not. */
		leader = pid_task(pid, PIDTYPE_TGID);
		if (leader && !klp_walk_group(leader, fn, arg, &nr, true)) {
			leader = klp_find_group(id);
			if (leader)
				klp_walk_group(leader, fn, arg, &nr, false);
		}
		if (id++ == INT_MAX)
			break;
		if (nr >= KLP_WALK_BATCH) {
			nr = 0;
			klp_rcu_pause();
		}
	}
	rcu_read_unlock();
}

/*
 * Apply @fn to every task, the idle tasks and the tasks forked meanwhile
 * included.  @fn must be idempotent and may run in fork with interrupts
 * off (klp_copy_process()).  Context: klp_mutex held.
 */
static void klp_each_task(klp_task_fn fn, int arg)
{
	unsigned int cpu;

	klp_fork_walk_set(fn, arg);
	klp_walk_ids(fn, arg);
	klp_fork_walk_set(NULL, 0);

	for_each_possible_cpu(cpu)
		fn(idle_task(cpu), arg);
}

static void klp_task_set_state(struct task_struct *task, int state)
{
	WRITE_ONCE(task->patch_state, state);
}

/*
 * Whether @task still has to switch to @target: if so, mark it (it may
 * not have been looked at yet, see the top of this file); if not, clear a
 * mark that a race with its own switch left (see klp_task_switched()).
 */
KLP_VISIBLE_IF_KUNIT bool klp_task_mark_pending(struct task_struct *task,
						int target)
{
	if (READ_ONCE(task->patch_state) == target) {
		klp_unflag_pending(task);
		return false;
	}
	klp_mark_pending(task);
	return true;
}

KLP_VISIBLE_IF_KUNIT void klp_task_clear_pending(struct task_struct *task,
						 int unused)
{
	klp_unflag_pending(task);
}

/*
 * Switch @task to @target unchecked if it still has to switch, marked or
 * not.  A task switching itself meanwhile writes the same state.
 */
KLP_VISIBLE_IF_KUNIT void klp_task_force(struct task_struct *task, int target)
{
	if (READ_ONCE(task->patch_state) != target)
		klp_switch_task(task, target);
}

static void klp_task_forget_state(struct task_struct *task, int unused)
{
	WARN_ON_ONCE(klp_patch_pending(task));
	WRITE_ONCE(task->patch_state, KLP_UNDEFINED);
}

static void klp_set_transition_flags(struct klp_patch *patch, bool value)
{
	struct klp_object *obj;
	struct klp_func *func;

	klp_for_each_object(patch, obj)
		klp_for_each_func(obj, func)
			WRITE_ONCE(func->transition, value);
}

/*
 * The code of @func that a task leaves behind when it switches to @target,
 * into @range: for patching, what runs now (@below, the function below
 * @func on its stack, or the original when @below is NULL); for unpatching,
 * the patch's own replacement (the original for a nop).  A task inside that
 * code cannot switch.
 */
KLP_VISIBLE_IF_KUNIT void klp_func_left_behind(const struct klp_func *func,
					       const struct klp_func *below,
					       int target,
					       struct klp_range *range)
{
	unsigned long start, size;

	if (target == KLP_PATCHED) {
		if (below) {
			start = (unsigned long)below->new_func;
			size = below->new_size;
		} else {
			start = (unsigned long)func->old_func;
			size = func->old_size;
		}
	} else if (func->nop) {
		start = (unsigned long)func->old_func;
		size = func->old_size;
	} else {
		start = (unsigned long)func->new_func;
		size = func->new_size;
	}

	range->start = start;
	range->end = start + size;
	range->name = func->old_name;
}

/*
 * The redirection of @func, into @range: the handler runs in the ftrace
 * trampoline called from the ftrace call at the start of the original
 * function, and returns to the function it chose through the trampoline's
 * return address, which it sets.  Under CONFIG_PREEMPTION a task can be
 * preempted after the handler chose, with only the return address of the
 * ftrace call (the call site plus MCOUNT_INSN_SIZE) on its stack, not the
 * chosen function: switched there, it would still run what it chose for
 * its old state, and return into code that may be freed once the
 * transition completes.  No task may switch with that address on its stack,
 * in either direction, whatever the preemption model: under the others
 * the window is merely shorter (an interrupt, not preemption).  That the
 * call's return address is its site plus MCOUNT_INSN_SIZE holds where the
 * ftrace call is a plain call instruction at the site (x86_64, the only
 * architecture this core supports; with IBT the site follows the endbr).
 * Once the trampoline has written the chosen function into the return
 * slot, that function is on the stack, and the ranges of what a
 * transition leaves behind cover it.
 */
KLP_VISIBLE_IF_KUNIT void klp_func_redirect_range(struct klp_func *func,
						  struct klp_range *range)
{
	range->start = klp_func_ip(func) + MCOUNT_INSN_SIZE;
	range->end = range->start + 1;
	range->name = func->old_name;
}

/*
 * The KLP_FUNC_RANGES ranges that a task in a transition to @target may not
 * be inside because of @func, into @range, if @func is patched: the code it
 * leaves behind, its redirection (klp_func_redirect_range()), and the stub
 * its site's calls go through (patch.c, "Calls without the handler": a task
 * past the stub's first instruction has dropped the return address into
 * the original function, and runs what the site's top was before the
 * transition; without a stub, the redirection once more).
 */
#define KLP_FUNC_RANGES	3

static bool klp_func_ranges(struct klp_func *func, int target,
			    struct klp_range range[KLP_FUNC_RANGES])
{
	struct klp_func *below = NULL;

	if (!func->patched)
		return false;

	if (target == KLP_PATCHED)
		below = klp_func_below(func);
	klp_func_left_behind(func, below, target, &range[0]);
	klp_func_redirect_range(func, &range[1]);
	if (!klp_func_stub_range(func, &range[2]))
		range[2] = range[1];
	return true;
}

static int klp_range_cmp(const void *a, const void *b)
{
	const struct klp_range *ra = a, *rb = b;

	if (ra->start != rb->start)
		return ra->start < rb->start ? -1 : 1;
	return 0;
}

static void klp_free_ranges(void)
{
	kvfree(klp_trans.ranges);
	klp_trans.ranges = NULL;
	klp_trans.nr_ranges = 0;
}

/*
 * Merge the overlapping ones of @nr sorted @ranges (the return address of a
 * redirection lies inside the original function when that is what a
 * patching transition leaves behind); return how many are left.  A merged
 * range keeps the name of its first part.
 */
KLP_VISIBLE_IF_KUNIT unsigned int klp_merge_ranges(struct klp_range *ranges,
						   unsigned int nr)
{
	unsigned int i, out = 0;

	for (i = 0; i < nr; i++) {
		struct klp_range *last = out ? &ranges[out - 1] : NULL;

		if (last && ranges[i].start < last->end) {
			last->end = max(last->end, ranges[i].end);
			continue;
		}
		ranges[out++] = ranges[i];
	}
	return out;
}

/* The room klp_fill_ranges() needs: KLP_FUNC_RANGES per function. */
static unsigned int klp_max_ranges(void)
{
	struct klp_object *obj;
	struct klp_func *func;
	unsigned int nr = 0;

	klp_for_each_object(klp_trans_patch, obj)
		klp_for_each_func(obj, func)
			nr++;
	return max(KLP_FUNC_RANGES * nr, 1U);
}

/*
 * Write into @ranges (klp_max_ranges() long) the ranges of @patch's
 * functions as they are patched now, in a transition to @target, sorted
 * and merged; return how many.  Context: klp_mutex held.
 */
KLP_VISIBLE_IF_KUNIT unsigned int klp_fill_ranges(struct klp_patch *patch,
						  int target,
						  struct klp_range *ranges)
{
	struct klp_object *obj;
	struct klp_func *func;
	unsigned int nr = 0;

	klp_for_each_object(patch, obj) {
		klp_for_each_func(obj, func) {
			if (klp_func_ranges(func, target, &ranges[nr]))
				nr += KLP_FUNC_RANGES;
		}
	}

	sort(ranges, nr, sizeof(*ranges), klp_range_cmp, NULL);
	return klp_merge_ranges(ranges, nr);
}

static int klp_build_ranges(void)
{
	struct klp_range *ranges;

	klp_free_ranges();

	/* What a function leaves behind, its redirection and its stub. */
	ranges = kvmalloc_array(klp_max_ranges(), sizeof(*ranges), GFP_KERNEL);
	if (!ranges)
		return -ENOMEM;

	klp_trans.ranges = ranges;
	klp_trans.nr_ranges = klp_fill_ranges(klp_trans_patch, klp_trans_target,
					      ranges);
	return 0;
}

/*
 * The range of @ranges (@nr of them, sorted by start, not overlapping) that
 * contains @addr, found by binary search, or NULL.
 */
KLP_VISIBLE_IF_KUNIT const struct klp_range *
klp_find_range(const struct klp_range *ranges, unsigned int nr,
	       unsigned long addr)
{
	unsigned int lo = 0, hi = nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (addr < ranges[mid].start)
			hi = mid;
		else if (addr >= ranges[mid].end)
			lo = mid + 1;
		else
			return &ranges[mid];
	}
	return NULL;
}

/*
 * Whether a task whose stack holds the addresses @entries (@nr_entries of
 * them, innermost first) can switch: NULL when none lies in one of @ranges
 * (see klp_find_range()), else the range of the innermost one that does.
 */
KLP_VISIBLE_IF_KUNIT const struct klp_range *
klp_stack_blocked_by(const struct klp_range *ranges, unsigned int nr,
		     const unsigned long *entries, unsigned int nr_entries)
{
	const struct klp_range *range;
	unsigned int i;

	for (i = 0; i < nr_entries; i++) {
		range = klp_find_range(ranges, nr, entries[i]);
		if (range)
			return range;
	}
	return NULL;
}

/*
 * Traces called reliable that are cut short.
 *
 * stack_trace_save_tsk_reliable() fails when the unwinder meets code it
 * has no data for, but in 6.1 a few places of x86 assembly carry unwind
 * hints that make the unwinder stop, or go astray, with frames left above
 * them: the retpoline and ITS thunks every indirect call goes through on a
 * kernel with those mitigations (klp_arch_in_thunk()), and
 * return_to_handler() of the function graph tracer (klp_arch_cut_syms()).
 * A task interrupted there has a trace without the function that made the
 * call, possibly one the transition leaves behind: switched, it would go
 * on in an old function and call new ones (test-stress.sh saw exactly
 * that, a mix of the versions of its consistency pair, first on Debian's
 * configuration).  Such a trace holds an address of that code (the
 * interrupted instruction, or a return into it), so a trace with any entry
 * there is unreliable.  No task stays there long: it is a blocker for one
 * round at most.  The sizes of the symbols are looked up once, at boot.
 */
struct klp_cut {
	unsigned long start;
	unsigned long end;
};

static struct klp_cut klp_cuts[KLP_ARCH_CUT_SYMS];
static unsigned int klp_nr_cuts;

static void __init klp_init_trace_cut(void)
{
	unsigned long syms[KLP_ARCH_CUT_SYMS], size, off;
	unsigned int i, n = klp_arch_cut_syms(syms);

	for (i = 0; i < n; i++) {
		/* A symbol of the core kernel has a size; else guess. */
		if (WARN_ON_ONCE(!kallsyms_lookup_size_offset(syms[i], &size,
							      &off))) {
			size = 64;
			off = 0;
		}
		klp_cuts[i].start = syms[i] - off;
		klp_cuts[i].end = syms[i] - off + size;
	}
	klp_nr_cuts = n;
}

static bool klp_addr_cuts_trace(unsigned long addr)
{
	unsigned int i;

	if (klp_arch_in_thunk(addr))
		return true;
	for (i = 0; i < klp_nr_cuts; i++)
		if (addr >= klp_cuts[i].start && addr < klp_cuts[i].end)
			return true;
	return false;
}

/* Whether the @nr @entries of a "reliable" trace may lack frames. */
KLP_VISIBLE_IF_KUNIT bool klp_trace_cut(const unsigned long *entries, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		if (klp_addr_cuts_trace(entries[i]))
			return true;
	return false;
}

/*
 * A scan before the unwinder.
 *
 * Unwinding is most of what a stack check costs: an ORC lookup for every
 * frame.  Yet a task can only ever run code again at an address that is a
 * word of its stack: the return address of each of its frames, and, when
 * it was interrupted (preempted), the interrupted instruction in the
 * registers saved there (a task preempted in a site's stub after the
 * return address into the original function was dropped has the stub's
 * address there, and the stubs of the transition's sites are among its
 * ranges).  For a task that is not running, all of these lie
 * between its saved stack pointer and the top of its stack
 * (klp_arch_saved_stack()).  So when no word of that part of the stack
 * lies in one of the transition's ranges, none of the task's frames is in
 * code that the transition leaves behind, nor in a redirection towards it,
 * whatever the unwinder would have made of the stack (also where it would
 * have given up: code without unwind data, trampolines, thunks), and the
 * task can switch.  A word in a range may be a stale local variable or a
 * return address: the unwinder decides then, as it always did.  Most
 * sleeping tasks have a few hundred words to scan, and most of those words
 * are compared with the bounds of all ranges only.
 *
 * Two things keep return addresses off the stack: the function graph
 * tracer and kretprobes (rethook in 6.1) replace them with their
 * trampolines and keep the real ones in lists of the task.  A task with
 * entries there goes to the unwinder, which translates them.  And one
 * thing runs a function's code elsewhere without a return address into the
 * function: the detour of an optimized kprobe (klp_arch_in_kprobe_slot()).
 * A word there goes to the unwinder too, which has no unwind data for it
 * and finds the stack unreliable, as it always did.
 *
 * The task cannot start running (task_call_func()) and has finished
 * switching out (klp_switch_if_safe()), so its return addresses and saved
 * registers stay as they are while they are read; other tasks may write
 * data on its stack meanwhile (a waker unlinking a wait queue entry), and
 * a word read as it changes is a data word, not one that decides.  The
 * reads are READ_ONCE_NOCHECK(), as the unwinder's: KASAN poisons the
 * red zones between stack variables.
 */

/* Whether @task keeps some of its return addresses off its stack. */
static bool klp_task_hides_returns(struct task_struct *task)
{
#ifdef CONFIG_FUNCTION_GRAPH_TRACER
	/* -1 when the task has no return of the graph tracer pending. */
	if (READ_ONCE(task->curr_ret_stack) >= 0)
		return true;
#endif
#ifdef CONFIG_KRETPROBES
	if (!llist_empty(&task->kretprobe_instances))
		return true;
#endif
#ifdef CONFIG_RETHOOK
	if (!llist_empty(&task->rethooks))
		return true;
#endif
	return false;
}

static const struct klp_range klp_kprobe_slot = { .name = "kprobe-slot" };

/*
 * The range of @ranges (@nr of them, sorted, not overlapping) that holds a
 * word of @from up to @to (not included), the first such word's; a range
 * named "kprobe-slot" for a word in a slot of kprobes; or NULL.
 */
KLP_VISIBLE_IF_KUNIT const struct klp_range *
klp_words_in_range(const struct klp_range *ranges, unsigned int nr,
		   const unsigned long *from, const unsigned long *to)
{
	const struct klp_range *range;
	unsigned long lo = 0, span = 0, word;

	if (nr) {
		lo = ranges[0].start;
		span = ranges[nr - 1].end - lo;
	}
	for (; from < to; from++) {
		word = READ_ONCE_NOCHECK(*from);
		/* One unsigned compare: lo <= word < lo + span. */
		if (word - lo < span) {
			range = klp_find_range(ranges, nr, word);
			if (range)
				return range;
		}
		if (klp_arch_in_kprobe_slot(word))
			return &klp_kprobe_slot;
	}
	return NULL;
}

/*
 * True when no word of the saved stack of @task lies in a range of the
 * transition (see above); false when one does, or when the scan cannot
 * tell.  @task is not current, cannot run, and has switched out.
 */
static bool klp_stack_words_clear(struct task_struct *task)
{
	const unsigned long *from, *to;
	bool clear = false;

	if (klp_task_hides_returns(task) || !try_get_task_stack(task))
		return false;
	if (klp_arch_saved_stack(task, &from, &to))
		clear = !klp_words_in_range(klp_trans.ranges,
					    klp_trans.nr_ranges, from, to);
	put_task_stack(task);
	return clear;
}

/* What a stack check needs: scratch space, and where to say what blocks. */
struct klp_check {
	unsigned long *entries;		/* KLP_MAX_STACK_ENTRIES of them */
	const char *fname;
	enum klp_switch_by by;		/* how a switch was decided */
	bool traced;			/* klp_task_blocked fired already */
};

static int klp_scan_stack(struct task_struct *task, struct klp_check *check)
{
	const struct klp_range *range;
	int nr;

	if (task != current && klp_stack_words_clear(task)) {
		check->by = KLP_BY_STACK_SCAN;
		return 0;
	}

	check->by = KLP_BY_STACK_CHECK;
	nr = stack_trace_save_tsk_reliable(task, check->entries,
					   KLP_MAX_STACK_ENTRIES);
	if (nr < 0 || klp_trace_cut(check->entries, nr))
		return -EINVAL;

	range = klp_stack_blocked_by(klp_trans.ranges, klp_trans.nr_ranges,
				     check->entries, nr);
	if (range) {
		check->fname = range->name;
		return -EADDRINUSE;
	}
	return 0;
}

/*
 * Runs through task_call_func(): @task cannot start running meanwhile, and
 * one that is not its CPU's current task has finished switching out (for a
 * blocked task task_call_func() waits until on_cpu is clear, with acquire
 * ordering, so the stack pointer saved at the switch and the frames under
 * it are those the stack checks read).
 */
static int klp_switch_if_safe(struct task_struct *task, void *arg)
{
	struct klp_check *check = arg;
	int ret;

	/* It switched itself meanwhile (see klp_check_task()). */
	if (!klp_task_to_switch(task))
		return 0;

	if (task_curr(task) && task != current)
		return -EBUSY;

	ret = klp_scan_stack(task, check);
	if (ret) {
		/*
		 * Said while @task is pinned: the event comes before any
		 * switch @task makes by itself once it runs again.
		 */
		trace_klp_task_blocked(task->pid, task->comm,
				       ret == -EADDRINUSE ?
				       "in-patched-function" : "unreliable-stack",
				       check->fname ?: "");
		check->traced = true;
		return ret;
	}

	klp_switch_task(task, klp_trans_target);
	trace_klp_task_switch(task->pid, task->comm, klp_trans_target,
			      check->by);
	return 0;
}

/*
 * Note @task as a blocker of this round, in the next free slot if any, and
 * fire klp_task_blocked unless the stack check @traced it already.
 */
static void klp_note_blocker(struct task_struct *task, const char *reason,
			     const char *fname, bool traced)
{
	struct klp_blocker *b;
	int slot;

	if (!traced)
		trace_klp_task_blocked(task->pid, task->comm, reason,
				       fname ?: "");

	slot = atomic_fetch_inc(&klp_trans.nr_blockers);
	if (slot >= KLP_MAX_BLOCKERS)
		return;

	b = &klp_trans.blockers[slot];
	b->pid = task->pid;
	b->idle_cpu = is_idle_task(task) ? task_cpu(task) : -1;
	b->kthread = task->flags & PF_KTHREAD;
	b->reason = reason;
	get_task_comm(b->comm, task);
	strscpy(b->func, fname ?: "-", sizeof(b->func));
}

/*
 * A user task running on another CPU switches itself on its next return to
 * user space, which for a task busy in user space is the next timer tick.
 * A reschedule IPI (kick_process()) sends it through that path now, so a
 * CPU-bound task does not delay the transition by up to a tick per round.
 * Kernel threads never return to user space: they wait for a stack check.
 * Isolated and nohz_full CPUs get no IPI: a task there switches on its next
 * exit from the kernel, or at the fake signal (klp_nudge_blocked_tasks()).
 */
static bool klp_may_hurry(struct task_struct *task)
{
	return !(task->flags & (PF_KTHREAD | PF_IO_WORKER)) &&
	       !cpu_is_isolated(task_cpu(task));
}

/*
 * Switch @task if its stack allows it.  A user task found running on a
 * housekeeping CPU is marked and sent towards user space (klp_may_hurry()),
 * where it finds the mark and switches, and looked at once more:
 * kick_process() leaves a task that is not running alone, and one switched
 * out just before would not switch itself before it next runs, a time
 * slice of another task later.  By then it has usually switched itself;
 * else it is switchable here now, or still running.
 * Return 0 or why not (see klp_try_switch_task()).
 */
static int klp_switch_or_hurry(struct task_struct *task,
			       struct klp_check *check)
{
	int ret = task_call_func(task, klp_switch_if_safe, check);

	if (ret != -EBUSY || !klp_may_hurry(task))
		return ret;
	/* The flag before the IPI: the exit to user space tests it after. */
	klp_mark_pending(task);
	kick_process(task);
	return task_call_func(task, klp_switch_if_safe, check);
}

/*
 * Switch @task, or note it as a blocker and say why in a debug line.
 *
 * The debug lines come from this function, by this name, on purpose: the
 * 6.1 selftests turn on every pr_debug() of kernel/livepatch but those of
 * "func klp_try_switch_task", which would otherwise print a line per
 * blocked task and round into the logs they compare line by line.
 */
static bool klp_try_switch_task(struct task_struct *task,
				struct klp_check *check)
{
	int ret = klp_switch_or_hurry(task, check);

	klp_sched_note_blocked(task, ret);
	switch (ret) {
	case 0:
		return true;
	case -EBUSY:
		pr_debug("%s: %s:%d is running\n", __func__, task->comm,
			 task->pid);
		klp_note_blocker(task, "running", NULL, false);
		break;
	case -EINVAL:
		pr_debug("%s: %s:%d has an unreliable stack\n", __func__,
			 task->comm, task->pid);
		klp_note_blocker(task, "unreliable-stack", NULL,
				 check->traced);
		break;
	case -EADDRINUSE:
		pr_debug("%s: %s:%d is sleeping on function %s\n", __func__,
			 task->comm, task->pid, check->fname);
		klp_note_blocker(task, "in-patched-function", check->fname,
				 check->traced);
		break;
	default:
		pr_debug("%s: Unknown error code (%d) when trying to switch %s:%d\n",
			 __func__, ret, task->comm, task->pid);
		klp_note_blocker(task, "unknown", NULL, false);
		break;
	}
	return false;
}

/*
 * True when @task switched already (by itself, or by another walker of a
 * shared round).  A walk marking tasks may have marked it again between
 * the clearing of its mark and the setting of its state in
 * klp_update_patch_state(): clear such a mark, or the task would count as
 * pending until its next return to user space.
 */
static bool klp_task_switched(struct task_struct *task)
{
	if (klp_task_to_switch(task))
		return false;
	klp_unflag_pending(task);
	return true;
}

/*
 * Try to switch @task by checking its stack; if something stops it, note it
 * as a blocker and mark it, so that it switches itself at its next safe
 * point.  @entries: scratch space for its stack, KLP_MAX_STACK_ENTRIES
 * long.  Return true when the task is in the target state afterwards.
 */
static bool klp_check_task(struct task_struct *task, unsigned long *entries)
{
	struct klp_check check = { .entries = entries };

	if (klp_task_switched(task))
		return true;

	if (!klp_have_reliable_stack() || !klp_trans.ranges)
		klp_note_blocker(task, "no-stack-check", NULL, false);
	else if (klp_try_switch_task(task, &check))
		return true;

	klp_mark_pending(task);
	return false;
}

/*
 * Rounds over the tasks left.
 *
 * While tasks sleep in a patched function, every retry would walk all
 * tasks twice (the stack checks, then the count) to find the same few
 * blockers, which with thousands of tasks costs more than everything else
 * the transition does.  So a full round lists (and pins) the tasks its walk
 * could not switch, when there are at most KLP_MAX_LEFT of them, and the
 * rounds after it check only those (klp_switch_tasks()).
 *
 * The stack checks of a round decide only that the transition is not
 * complete: a task checked that cannot switch shows it.  When every task
 * checked has switched, the transition is complete if the list was made
 * by a walk that met every task and no task still to switch forked since
 * (klp_list_whole()); else a counting walk over every task decides, and
 * lists the tasks it finds still to switch, if any, for the next round.
 * So the list need not hold every task still to switch: a task the walk
 * of a shared round missed (see "Sharing a round" below), or one forked by
 * a listed task after the list was made, is met by that counting walk, and
 * checked at the next retry, at the shortest delay.  A walk that stopped
 * early (a pause found the task it stood on gone) leaves the list void,
 * and the next round is a full one.
 *
 * The list belongs to the transition's state: it is filled, used and
 * emptied under klp_mutex (the walkers of a shared round, which fill it
 * too, run while the leader holds it), and emptied when a transition
 * begins (also when it reverses), is forced and finishes.  A pinned task
 * that exits stays allocated until it is dropped from the list.
 */
static void klp_left_drop(void)
{
	unsigned int i, nr = atomic_read(&klp_trans.nr_left);

	for (i = 0; i < min_t(unsigned int, nr, KLP_MAX_LEFT); i++)
		put_task_struct(klp_trans.left[i]);
	atomic_set(&klp_trans.nr_left, 0);
	klp_trans.left_valid = false;
	klp_trans.list_whole = false;
}

/*
 * Forks by a task that had not switched (klp_copy_process()): such a child
 * has to switch too, and a walk may have missed it.
 */
static atomic_long_t klp_forks_unswitched;

/*
 * The count above, read where no fork is half done: klp_copy_process()
 * counts, and the child is linked into the task list, in one hold of
 * tasklist_lock for writing.  (A fork that fails after the count, in
 * that same hold, links nothing: a count too high only costs a counting
 * walk.)
 */
static unsigned long klp_read_forks(void)
{
	unsigned long nr;

	read_lock(&tasklist_lock);
	nr = atomic_long_read(&klp_forks_unswitched);
	read_unlock(&tasklist_lock);
	return nr;
}

/*
 * Whether the list of tasks left still holds every task that has to
 * switch, so that once all of them switched the transition is complete
 * without a counting walk.  True when the list was made by a walk that met
 * every task (a full round's walk, unshared and not cut short, or a
 * counting walk) and no task that had not switched forked since that walk
 * began.  Such a walk listed every task it met that could not switch; a
 * task it did not meet was forked after it began (one that existed
 * throughout is met: see "Walking the task list"), by a parent that had
 * not switched, which the count of forks shows, or by one that had, whose
 * child starts switched.  No task that switched can go back during a
 * transition (a reversal begins it anew and drops the list).
 */
static bool klp_list_whole(void)
{
	return klp_trans.list_whole && klp_trans.left_valid &&
	       klp_read_forks() == klp_trans.forks_at;
}

/*
 * Pin @task as one still to switch; the list is void once it overflows.
 * The walkers of a shared round claim slots with an atomic increment; they
 * found @task on the task list under rcu_read_lock(), so it is not freed
 * before they pin it.
 */
static void klp_left_add(struct task_struct *task)
{
	unsigned int slot = atomic_fetch_inc(&klp_trans.nr_left);

	if (slot < KLP_MAX_LEFT)
		klp_trans.left[slot] = get_task_struct(task);
	else
		WRITE_ONCE(klp_trans.left_valid, false);
}

/* Check @task in a full round's walk; list it when it cannot switch. */
static void klp_check_or_list(struct task_struct *task, unsigned long *entries)
{
	if (!klp_check_task(task, entries))
		klp_left_add(task);
}

/*
 * Sharing a round of stack checks with the other CPUs.
 *
 * A stack check unwinds the task's stack: microseconds each, so a round
 * over thousands of tasks takes milliseconds on one CPU.  With at least
 * KLP_WALK_SHARE_MIN tasks, the work item running the round (the leader)
 * queues klp_walk_help() on every other online housekeeping CPU.  Leader
 * and helpers walk the task list and check the tasks of the chunks of
 * KLP_WALK_CHUNK consecutive tasks that they claim from a shared counter.
 * A helper that starts late, or only after the round, leaves more chunks
 * to the leader, nothing else: the leader never waits for a helper to
 * start, only for those that have joined to finish (klp_walk_close()),
 * and it waits for them asleep, holding no lock but klp_mutex and
 * cpus_read_lock(), which the helpers never take.
 *
 * The walkers hold no tasklist_lock: they walk under rcu_read_lock(),
 * pausing between chunks (klp_walk_pause_rcu()), and stay preemptible but for
 * the RCU read-side sections of non-preemptible RCU, one chunk long.  The
 * list may change under them, so a task may be checked twice (harmless:
 * the second check finds it switched) or not at all.  The stack checks
 * therefore only switch tasks and note blockers; whether every task
 * switched is decided afterwards by klp_count_pending_tasks(), a walk
 * by process IDs that sees every task (see above).  (An unshared walk
 * that was not cut short meets every task that exists throughout it too:
 * its list can decide, see klp_list_whole().)
 *
 * Each walker first switches itself, the leader before the helpers can
 * start: otherwise the one whose chunk holds another walker would find
 * that task running.
 *
 * Only rounds with many tasks left are shared (the first round, or one
 * after a round that left at least KLP_WALK_SHARE_MIN tasks to switch),
 * only with at least klp_share_cpus housekeeping CPUs online, and never
 * with isolated or nohz_full CPUs.
 *
 * Sharing costs CPU time: every walker walks the whole list to find its
 * chunks, so each helper adds a walk over every task of its own, and the
 * walkers contend for memory.  With one helper (two housekeeping CPUs) it
 * at best halves the round's duration, and costs more CPU time than the
 * whole first round of stock 6.1 (make bench, disturbance case, 3 vCPUs
 * with one isolated, 2026-12-05: the first round's leader and helper
 * together 68-106 ms, stock's first round 44-89 ms, alike unshared); so
 * by default rounds are shared from three housekeeping CPUs on, where two
 * helpers can take it to a third.  livepatch.share_cpus sets that
 * number (0: never share); the stress selftest sets 2, so that its 2-CPU
 * guest runs this code too.
 */
#define KLP_WALK_CHUNK		32
#define KLP_WALK_SHARE_MIN	(4 * KLP_WALK_CHUNK)

static unsigned int klp_share_cpus = 3;
module_param_named(share_cpus, klp_share_cpus, uint, 0644);
MODULE_PARM_DESC(share_cpus,
		 "Share a round of stack checks among the CPUs when at least this many housekeeping CPUs are online (default: 3; 0: never)");

static struct {
	atomic_t next_chunk;	/* the next chunk not claimed yet */
	atomic_t helpers;	/* helpers inside the round */
	bool open;		/* helpers may join */
	unsigned int last_pending;	/* tasks left by the last round */
} klp_walk;

/*
 * A helper of shared rounds, one per CPU.  Its scratch space belongs to the
 * work item, not to the CPU: a work item never runs twice at once, even
 * when a CPU went offline while it was queued and it runs elsewhere.
 */
struct klp_walk_helper {
	struct work_struct work;
	unsigned long entries[KLP_MAX_STACK_ENTRIES];
};

static DEFINE_PER_CPU(struct klp_walk_helper, klp_walk_helpers);

/* Check the tasks of every chunk this walker can claim. */
static void klp_walk_chunks(unsigned long *entries)
{
	unsigned int pos = 0, start = 0, end = 0;
	struct task_struct *g, *task;

	rcu_read_lock();
	for_each_process_thread(g, task) {
		if (pos == end) {
			start = atomic_fetch_inc(&klp_walk.next_chunk) *
				KLP_WALK_CHUNK;
			end = start + KLP_WALK_CHUNK;
		}
		/* Each walker checked itself first. */
		if (pos >= start && task != current)
			klp_check_or_list(task, entries);
		if (!(++pos % KLP_WALK_CHUNK) && !klp_walk_pause_rcu(g, task)) {
			/* The tasks after @task go unchecked and unlisted. */
			WRITE_ONCE(klp_trans.left_valid, false);
			goto out;
		}
	}
out:
	rcu_read_unlock();
}

/* A helper's part of a shared round. */
static void klp_walk_help(struct work_struct *work)
{
	struct klp_walk_helper *helper =
		container_of(work, struct klp_walk_helper, work);

	atomic_inc(&klp_walk.helpers);
	/* Pairs with the smp_mb() in klp_walk_close(). */
	smp_mb__after_atomic();
	/* Pairs with the smp_store_release() in klp_walk_open(). */
	if (smp_load_acquire(&klp_walk.open)) {
		klp_check_or_list(current, helper->entries);
		klp_walk_chunks(helper->entries);
	}
	/* Fully ordered: the checks come before the leader sees us gone. */
	if (atomic_dec_and_test(&klp_walk.helpers))
		wake_up_var(&klp_walk.helpers);
}

/* Called with cpus_read_lock() held, so the CPUs stay online. */
static void klp_walk_open(void)
{
	int cpu, self = raw_smp_processor_id();

	/* Ranges, counters and flags set before a helper can read them. */
	smp_store_release(&klp_walk.open, true);
	for_each_online_cpu(cpu) {
		struct work_struct *work = &per_cpu_ptr(&klp_walk_helpers,
							cpu)->work;

		/* The leader may migrate: @self only spares its CPU now. */
		if (cpu == self || cpu_is_isolated(cpu))
			continue;
		/* Set up once; a work item still queued is left as it is. */
		if (!work->func)
			INIT_WORK(work, klp_walk_help);
		queue_work_on(cpu, system_highpri_wq, work);
	}
}

/* Stop helpers from joining and wait for those inside to finish. */
static void klp_walk_close(void)
{
	WRITE_ONCE(klp_walk.open, false);
	/*
	 * A helper either finds the round closed or is counted here:
	 * pairs with the smp_mb__after_atomic() in klp_walk_help().
	 */
	smp_mb();
	wait_var_event(&klp_walk.helpers, !atomic_read(&klp_walk.helpers));
	/*
	 * What the helpers noted and listed is read and changed after they
	 * left: pairs with the atomic_dec_and_test() in klp_walk_help().
	 */
	smp_acquire__after_ctrl_dep();
}

/* Online CPUs that helpers may run on.  Context: cpus_read_lock() held. */
static unsigned int klp_housekeeping_cpus(void)
{
	unsigned int cpu, nr = 0;

	for_each_online_cpu(cpu)
		nr += !cpu_is_isolated(cpu);
	return nr;
}

static bool klp_walk_worth_sharing(void)
{
	unsigned int min_cpus = READ_ONCE(klp_share_cpus);

	return min_cpus && READ_ONCE(nr_threads) >= KLP_WALK_SHARE_MIN &&
	       klp_walk.last_pending >= KLP_WALK_SHARE_MIN &&
	       klp_housekeeping_cpus() >= max(min_cpus, 2U);
}

/*
 * Check every task but the idle tasks, switching those that can switch.
 * Context: klp_mutex and cpus_read_lock() held.
 */
static void klp_walk_tasks(void)
{
	bool share = klp_walk_worth_sharing();

	klp_trans.forks_at = klp_read_forks();
	atomic_set(&klp_walk.next_chunk, 0);
	klp_check_or_list(current, klp_trans.stack_entries);
	if (share)
		klp_walk_open();
	klp_walk_chunks(klp_trans.stack_entries);
	if (share)
		klp_walk_close();
	/* A shared walk may miss tasks: chunks are positions in a moving list. */
	klp_trans.list_whole = !share && READ_ONCE(klp_trans.left_valid);
}

/*
 * Count @task if it still has to switch.  The count of the rounds
 * (@collect) also marks and lists it, and clears a stale mark; a count for
 * sysfs only reads.
 */
static void klp_task_count_pending(struct task_struct *task, int collect)
{
	if (collect) {
		if (!klp_task_mark_pending(task, klp_trans_target))
			return;
		klp_left_add(task);
	} else if (!klp_task_to_switch(task)) {
		return;
	}
	klp_trans.nr_counted++;
}

/*
 * The tasks still to switch, idle tasks included, counted by a walk that
 * sees every task that exists throughout it (see "Walking the task list"
 * above): 0 means that the transition is complete unless a task still to
 * switch forked meanwhile (klp_count_and_list_pending()).  With @collect,
 * the walk also marks them, so that those no round met switch themselves
 * too, and makes the list of tasks left (the idle tasks, which every round
 * looks at, and marks, stay out of both).  Context: klp_mutex held.
 */
static unsigned int klp_count_pending_tasks(bool collect)
{
	unsigned int cpu;

	if (collect) {
		klp_left_drop();
		klp_trans.left_valid = true;
		klp_trans.forks_at = klp_read_forks();
	}
	klp_trans.nr_counted = 0;
	klp_walk_ids(klp_task_count_pending, collect);

	/* Too many to list: unpin them now, the next round is a full one. */
	if (collect && !klp_trans.left_valid)
		klp_left_drop();
	else if (collect)
		klp_trans.list_whole = true;

	for_each_possible_cpu(cpu)
		klp_task_count_pending(idle_task(cpu), false);
	return klp_trans.nr_counted;
}

/*
 * Wake @cpu's idle task, which still has to switch and does so in the idle
 * loop.  A housekeeping CPU is woken every round.  An isolated CPU is woken
 * once per transition and once more after each nudge of blocked tasks: one
 * wake-up suffices for an idle task that only waits, and the IPI goes to a
 * CPU that was set aside for work that livepatch must not disturb.  (An
 * idle task cannot be switched from outside while it runs: an interrupt on
 * its CPU may be running a patched function in its name.)
 */
static void klp_wake_idle_cpu(unsigned int cpu)
{
	if (cpu_is_isolated(cpu) &&
	    cpumask_test_and_set_cpu(cpu, &klp_trans.woken_isolated))
		return;
	wake_up_if_idle(cpu);
}

/*
 * Idle tasks switch themselves in the idle loop; wake them up.  The idle
 * task of an offline CPU runs no patched code and is switched directly.
 * Return how many still have to switch.  Context: cpus_read_lock() held.
 */
static unsigned int klp_switch_idle_tasks(void)
{
	struct task_struct *task;
	unsigned int cpu, left = 0;

	for_each_possible_cpu(cpu) {
		task = idle_task(cpu);
		if (cpu_online(cpu)) {
			if (!klp_check_task(task, klp_trans.stack_entries)) {
				klp_wake_idle_cpu(cpu);
				left++;
			}
		} else if (klp_task_to_switch(task)) {
			klp_switch_task(task, klp_trans_target);
		}
	}
	return left;
}

/*
 * The count that decides whether the transition is complete, also listing
 * the tasks left for the next rounds.
 */
static unsigned int klp_count_and_list_pending(void)
{
	unsigned int pending = klp_count_pending_tasks(true);

	klp_walk.last_pending = pending;
	/*
	 * None found, but a task still to switch forked during the walk: its
	 * child may have got an ID that the walk had passed.  Not complete
	 * yet; the next round counts again (its list is not whole).
	 */
	if (!pending && !klp_list_whole()) {
		klp_trans.retry_delay = KLP_RETRY_MIN;
		return 1;
	}
	if (pending) {
		klp_rebase_pending(pending);
		/* Tasks no round checked yet: look at them soon. */
		klp_trans.retry_delay = KLP_RETRY_MIN;
	}
	return pending;
}

/*
 * Drop the listed tasks (see "Rounds over the tasks left") that switched or
 * are gone, checking the stack of each other one first when @check; return
 * how many are left.  Context: ranges built, cpus_read_lock() held.
 */
static unsigned int klp_check_left_tasks(bool check)
{
	unsigned int i, kept = 0, nr = atomic_read(&klp_trans.nr_left);
	struct task_struct *task;
	bool switched;

	for (i = 0; i < nr; i++) {
		task = klp_trans.left[i];
		/*
		 * A task reaped since needs nothing; it never runs
		 * klp_update_patch_state() again, so count it off here.
		 */
		if (!pid_alive(task)) {
			klp_unflag_pending(task);
			switched = true;
		} else if (check) {
			switched = klp_check_task(task, klp_trans.stack_entries);
		} else {
			switched = klp_task_switched(task);
		}
		if (!switched) {
			klp_trans.left[kept++] = task;
			continue;
		}
		put_task_struct(task);
	}
	atomic_set(&klp_trans.nr_left, kept);
	return kept;
}

/*
 * One round of stack checks: over every task (@full), or over the tasks
 * that the last full round or count listed.  Return how many tasks are
 * still to switch after it, at least (0: the transition is complete).
 *
 * After a full round's walk, the tasks it could not switch are looked at
 * once more, without a stack check: one found running may have switched
 * itself since, such as a walker of a shared round that another found
 * before it switched itself.  Only when every task checked has switched
 * is the transition complete: by the list (klp_list_whole()), or by a
 * counting walk (klp_count_and_list_pending()); a task still blocked shows
 * that the transition is not complete.
 */
static unsigned int klp_switch_tasks(bool full)
{
	unsigned int left;

	atomic_set(&klp_trans.nr_blockers, 0);
	/* Without ranges every check notes a blocker. */
	klp_build_ranges();
	cpus_read_lock();
	if (full) {
		klp_left_drop();
		klp_trans.left_valid = true;
		klp_walk_tasks();
	}
	/* The walkers of a shared round are done (klp_walk_close()). */
	if (READ_ONCE(klp_trans.left_valid)) {
		left = klp_check_left_tasks(!full);
	} else {
		/* Too many to list: every one of them was noted. */
		left = atomic_read(&klp_trans.nr_blockers);
		klp_left_drop();
	}
	left += klp_switch_idle_tasks();
	cpus_read_unlock();
	klp_free_ranges();

	if (!left)
		return klp_list_whole() ? 0 : klp_count_and_list_pending();
	if (full)
		klp_walk.last_pending = left;
	return left;
}

/*
 * Nudge @task if it still has to switch (idle tasks are woken by rounds),
 * marked first if no round met it yet.
 */
static void klp_nudge_task(struct task_struct *task, int unused)
{
	if (is_idle_task(task) ||
	    !klp_task_mark_pending(task, klp_trans_target))
		return;

	klp_trans.nr_nudged++;
	if (task->flags & PF_KTHREAD) {
		/* Only sleeping kthreads can be woken; they recheck. */
		wake_up_state(task, TASK_INTERRUPTIBLE);
		return;
	}
	/*
	 * A fake signal: the task leaves an interruptible sleep and goes back
	 * to user space, switching on the way, without any signal being
	 * delivered.  TIF_NOTIFY_SIGNAL stays set until the task gets there,
	 * where TIF_SIGPENDING alone could be cleared by recalc_sigpending()
	 * on the way and lost.
	 */
	set_notify_signal(task);
}

/*
 * Nudge tasks that have been blocking the transition for a long time.
 */
static void klp_nudge_blocked_tasks(void)
{
	pr_notice("signaling remaining tasks\n");
	/*
	 * Not for forks: a child of a task still to switch is marked, and
	 * switches itself, or is counted by the next counting walk.
	 */
	klp_walk_ids(klp_nudge_task, 0);
	/* The next round wakes idle isolated CPUs once more. */
	cpumask_clear(&klp_trans.woken_isolated);
}

static void klp_trans_finish(void)
{
	struct klp_patch *patch = klp_trans_patch;
	struct klp_object *obj;

	pr_debug("'%s': completing %s transition\n", patch->mod->name,
		 klp_state_name(klp_trans_target));

	klp_sched_finish();

	if (patch->replace && klp_trans_target == KLP_PATCHED) {
		klp_unhook_replaced(patch);
		klp_drop_nops(patch);
	}

	if (klp_trans_target == KLP_UNPATCHED) {
		/* No handler may find the patch's functions from now on. */
		klp_restore_patch(patch);
		klp_sync_handlers();
	}

	klp_set_transition_flags(patch, false);

	/*
	 * func->transition cleared before the states are reset: a handler
	 * that saw the flag set and then reads KLP_UNDEFINED takes the top of
	 * the stack, which every task runs now, and finds the flag clear when
	 * it reads it again (klp_pick_func()).  No wait for the handlers here:
	 * on an isolated CPU that wait is an RCU grace period.  (Unpatching
	 * took the patch's functions off the stacks, and waited, above.)
	 * Pairs with the smp_rmb() in klp_pick_func().
	 */
	smp_wmb();
	klp_each_task(klp_task_forget_state, 0);
	/*
	 * Every task runs the tops now: settled sites are called without the
	 * handler again (patch.c), before anyone can see the transition
	 * complete.
	 */
	klp_direct_clear_busy();
	klp_direct_update();

	klp_for_each_object(patch, obj) {
		if (!klp_object_present(obj))
			continue;
		if (klp_trans_target == KLP_PATCHED)
			klp_run_post_patch(obj);
		else
			klp_run_post_unpatch(obj);
	}

	pr_notice("'%s': %s complete\n", patch->mod->name,
		  klp_state_name(klp_trans_target));
	trace_klp_transition_complete(patch->mod->name, klp_trans_target);

	klp_left_drop();
	klp_trans_target = KLP_UNDEFINED;
	WRITE_ONCE(klp_trans_patch, NULL);
	atomic_set(&klp_trans.kick, KLP_KICK_OFF);
}

/**
 * klp_trans_advance() - switch what can be switched, and finish
 *
 * Context: klp_mutex held.
 *
 * Checks the tasks not yet switched: every task, or those the last round
 * listed (see "Rounds over the tasks left").  When none is left the
 * transition completes, and a disabled patch or the patches an atomic
 * replace took over are freed.  Otherwise a retry is scheduled.
 *
 * Return: true when the transition completed.
 */
static bool klp_trans_advance(void)
{
	struct klp_patch *patch;
	unsigned int pending;

	lockdep_assert_held(&klp_mutex);
	WARN_ON_ONCE(klp_trans_target == KLP_UNDEFINED);

	/* No kick during the round: see "The kick" above. */
	atomic_set(&klp_trans.kick, KLP_KICK_OFF);

	pending = klp_switch_tasks(!klp_trans.left_valid);
	if (pending) {
		if (time_after_eq(jiffies, klp_trans.next_signal)) {
			klp_nudge_blocked_tasks();
			klp_trans.next_signal = jiffies + KLP_SIGNAL_PERIOD;
		}
		klp_schedule_retry();
		klp_arm_kick();
		return false;
	}

	patch = klp_trans_patch;
	klp_trans_finish();

	if (!patch->enabled)
		klp_retire_patch(patch);
	else if (patch->replace)
		klp_retire_replaced(patch);

	return true;
}

/**
 * klp_trans_prepare() - prepare a transition of @patch to @state
 * @patch: the patch to enable or disable
 * @state: KLP_PATCHED or KLP_UNPATCHED
 *
 * Every task starts in the opposite state.  Functions are pushed onto their
 * stacks (patching) only after this.
 */
void klp_trans_prepare(struct klp_patch *patch, int state)
{
	WARN_ON_ONCE(klp_trans_target != KLP_UNDEFINED);

	pr_debug("'%s': initializing %s transition\n", patch->mod->name,
		 klp_state_name(state));

	WRITE_ONCE(klp_trans_patch, patch);
	klp_trans_target = state;
	/* Every call of the patch's functions takes the handler (patch.c). */
	klp_direct_mark_busy(patch);
	klp_direct_update();

	klp_each_task(klp_task_set_state, !state);

	/*
	 * The tasks' patch_state before func->transition: pairs with the
	 * second smp_rmb() in klp_pick_func(), which reads them the other
	 * way round.
	 */
	smp_wmb();
	klp_set_transition_flags(patch, true);
	/*
	 * func->transition before the function appears on a stack: pairs
	 * with the first smp_rmb() in klp_pick_func().
	 */
	smp_wmb();
}

/*
 * Idle tasks are marked at once, without a walk: an idle task cannot be
 * checked while its CPU idles, and marked it switches at its CPU's next
 * pass through the idle loop, usually before the first round gets to it.
 * Unmarked, an idle isolated CPU would get a wake-up from that round.
 */
static void klp_mark_idle_tasks(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		klp_task_mark_pending(idle_task(cpu), klp_trans_target);
}

/**
 * klp_trans_begin() - let tasks switch to the target state
 *
 * Starts the clocks for retries and signals.  Of the tasks, only the idle
 * tasks are marked with TIF_PATCH_PENDING now: the first round switches
 * the other tasks it can and marks the rest (see the top of this file).
 */
void klp_trans_begin(void)
{
	WARN_ON_ONCE(klp_trans_target == KLP_UNDEFINED);

	pr_notice("'%s': starting %s transition\n",
		  klp_trans_patch->mod->name,
		  klp_state_name(klp_trans_target));

	/* Before any task can switch and trace its switch. */
	trace_klp_transition_start(klp_trans_patch->mod->name,
				   klp_trans_target);

	/*
	 * klp_trans_target and func->transition are visible to a task that
	 * finds its flag set: flags are set by value-returning, fully ordered
	 * atomics (klp_mark_pending()), here and by rounds that take
	 * klp_mutex after this, and the test_and_clear_tsk_thread_flag() of
	 * klp_update_patch_state() is fully ordered too.  A child forked by a
	 * marked parent gets its flag with a plain set_bit(), after its
	 * parent's was set so, and first runs after wake_up_new_task().
	 */
	atomic_set(&klp_trans.nr_pending, 0);
	klp_mark_idle_tasks();
	klp_left_drop();
	klp_trans.started_at = ktime_get();
	klp_trans.nr_nudged = 0;
	atomic_set(&klp_trans.nr_blockers, 0);
	klp_trans.next_signal = jiffies + KLP_SIGNAL_PERIOD;
	klp_trans.retry_delay = KLP_RETRY_MIN;
	cpumask_clear(&klp_trans.woken_isolated);
	klp_walk.last_pending = UINT_MAX;
	klp_sched_begin();
}

/**
 * klp_trans_first_round() - run the first round of a transition just begun
 *
 * Context: process context, klp_mutex not held.  Called by the enable and
 * disable paths after klp_trans_begin(), and after a reversal, once they
 * released klp_mutex.
 *
 * The round runs on a high-priority workqueue, not in the caller, whose
 * priority is whatever user space gave it: with CPU-bound tasks around, a
 * caller preempted in the middle of the round, holding klp_mutex, held up
 * the whole transition for a time slice of those tasks (tens of ms).  The
 * caller waits for that round, so a transition that can complete at once
 * has completed when klp_enable_patch() or the write to "enabled" returns.
 * It runs on the caller's CPU, which waits anyway (so it also follows the
 * caller's events in a trace whose clocks differ between CPUs), unless
 * that CPU is isolated; then it goes to klp_trans_wq like the others.
 */
void klp_trans_first_round(void)
{
	int cpu;

	lockdep_assert_not_held(&klp_mutex);

	/*
	 * One work item, two workqueues: the retries this round queues go to
	 * klp_trans_wq.  The workqueue code does not keep an item queued on
	 * one workqueue from running while it still runs on another, so a
	 * kick during this round can start the next one at once; both take
	 * klp_mutex, so they run one after the other.  flush_work() below
	 * waits for the last queueing, which cannot finish before this round.
	 */
	cpu = get_cpu();
	if (cpu_is_isolated(cpu))
		klp_queue_round(0);
	else
		mod_delayed_work_on(cpu, system_highpri_wq, &klp_trans_work, 0);
	put_cpu();
	/* Waits for the round queued above, not for the retries it queues. */
	flush_work(&klp_trans_work.work);
}

/**
 * klp_trans_cancel() - undo a patching transition that never started
 *
 * Used when enabling fails after klp_trans_prepare(): the patch is taken
 * off the stacks again and owed post-unpatch callbacks run.
 */
void klp_trans_cancel(void)
{
	if (WARN_ON_ONCE(klp_trans_target != KLP_PATCHED))
		return;

	pr_debug("'%s': canceling patching transition, going to unpatch\n",
		 klp_trans_patch->mod->name);

	klp_trans_target = KLP_UNPATCHED;
	klp_trans_finish();
}

/**
 * klp_trans_reverse() - turn the running transition around
 *
 * Tasks that already switched become the ones still to switch.
 */
void klp_trans_reverse(void)
{
	struct klp_patch *patch = klp_trans_patch;

	pr_debug("'%s': reversing transition from %s to %s\n",
		 patch->mod->name, klp_state_name(klp_trans_target),
		 klp_state_name(!klp_trans_target));

	patch->enabled = !patch->enabled;

	/*
	 * No task may switch to the old target after the flip: clear the
	 * flags, then wait for klp_update_patch_state() calls in flight.
	 */
	klp_each_task(klp_task_clear_pending, 0);
	klp_sync_handlers();

	klp_trans_target = !klp_trans_target;
	trace_klp_transition_reverse(patch->mod->name, klp_trans_target);
	klp_trans_begin();

	atomic_set(&klp_trans.kick, KLP_KICK_OFF);
	klp_queue_round(0);
}

/**
 * klp_trans_force() - switch every task without checking it
 *
 * Tasks may still be running code the transition leaves behind, so the
 * modules of patches on their way out can never be unloaded.
 */
void klp_trans_force(void)
{
	struct klp_patch *patch;

	pr_warn("forcing remaining tasks to the patched state\n");
	trace_klp_transition_force(klp_trans_patch->mod->name,
				   klp_trans_target);

	klp_each_task(klp_task_force, klp_trans_target);
	klp_left_drop();

	if (klp_trans_target == KLP_UNPATCHED) {
		klp_trans_patch->forced = true;
	} else if (klp_trans_patch->replace) {
		klp_for_each_registered(patch)
			if (patch != klp_trans_patch)
				patch->forced = true;
	}

	klp_queue_round(0);
}

/**
 * klp_update_patch_state() - switch a task that is known to be safe
 * @task: the current task, at a point where it runs no patched function
 *	  (return to user space, idle loop)
 *
 * Called with TIF_PATCH_PENDING set.  The task takes the target state and
 * kicks the transition work so that the transition completes promptly.
 */
void klp_update_patch_state(struct task_struct *task)
{
	/* Lets klp_sync_handlers() wait for this function. */
	preempt_disable_notrace();

	/*
	 * The test-and-clear is fully ordered: the target state read after
	 * it is the one published before the flag was set.
	 */
	if (test_and_clear_tsk_thread_flag(task, TIF_PATCH_PENDING)) {
		int target = READ_ONCE(klp_trans_target);

		/*
		 * A stale mark (see klp_unflag_pending()) is only counted
		 * off: the task switched already, and says so once.
		 */
		if (task->patch_state != target) {
			WRITE_ONCE(task->patch_state, target);
			trace_klp_task_switch(task->pid, task->comm, target,
					      KLP_BY_SELF);
		}
		/* Fully ordered: the kicked round sees the state above. */
		if (atomic_dec_and_test(&klp_trans.nr_pending))
			klp_kick_transition();
	}

	preempt_enable_notrace();
}

/**
 * klp_copy_process() - a new task inherits its parent's patch state
 * @child: the task being created by fork
 *
 * Called with tasklist_lock held for writing, in the hold in which fork
 * attaches @child's IDs and links it into the task lists.  The parent's
 * flag may have changed since it was copied along with the thread info, so
 * it is set again, only if the parent still has to switch: a stale mark
 * (see klp_unflag_pending()) would stay on a child that no walk meets.
 * While klp_each_task() walks the tasks, its function is applied to @child
 * too: the walk may have passed @child's ID already (see "Walking the task
 * list" in transition.c).
 */
void klp_copy_process(struct task_struct *child)
{
	int target = READ_ONCE(klp_trans_target);
	int state = READ_ONCE(current->patch_state);

	if (klp_patch_pending(current) && state != target)
		klp_flag_pending(child);
	else
		clear_tsk_thread_flag(child, TIF_PATCH_PENDING);

	child->patch_state = state;
	if (klp_fork_walk.fn)
		klp_fork_walk.fn(child, klp_fork_walk.arg);
	/* Outside transitions both read KLP_UNDEFINED. */
	if (child->patch_state != target)
		atomic_long_inc(&klp_forks_unswitched);
}

/*
 * What the transition hands out for sysfs (core.c formats it), under
 * klp_mutex.  Each reports nothing (0, or no blocker) unless @patch is the
 * one in transition.
 */

/* Tasks that still have to switch, counted now. */
unsigned int klp_trans_pending_tasks(struct klp_patch *patch)
{
	lockdep_assert_held(&klp_mutex);
	if (patch != klp_trans_patch)
		return 0;
	/* A count for sysfs leaves the rounds' list of tasks left alone. */
	return klp_count_pending_tasks(false);
}

/* How long the transition has run, in milliseconds. */
s64 klp_trans_duration_ms(struct klp_patch *patch)
{
	lockdep_assert_held(&klp_mutex);
	if (patch != klp_trans_patch)
		return 0;
	return ktime_ms_delta(ktime_get(), klp_trans.started_at);
}

/* Fake signals and wake-ups sent to blocking tasks. */
unsigned long klp_trans_nudged(struct klp_patch *patch)
{
	lockdep_assert_held(&klp_mutex);
	return patch == klp_trans_patch ? klp_trans.nr_nudged : 0;
}

static bool klp_blocker_still_pending(const struct klp_blocker *b)
{
	struct task_struct *task;
	bool pending = false;

	if (b->idle_cpu >= 0)
		return klp_task_to_switch(idle_task(b->idle_cpu));

	/* Stored pids are global: look them up in the initial namespace. */
	rcu_read_lock();
	task = find_task_by_pid_ns(b->pid, &init_pid_ns);
	if (task)
		pending = klp_task_to_switch(task);
	rcu_read_unlock();
	return pending;
}

/*
 * Copy into @out (room for KLP_MAX_BLOCKERS) the blocking tasks found by
 * the last round of checks that have not switched since; return how many.
 */
unsigned int klp_trans_copy_blockers(struct klp_patch *patch,
				     struct klp_blocker *out)
{
	unsigned int i, nr, copied = 0;

	lockdep_assert_held(&klp_mutex);
	if (patch != klp_trans_patch)
		return 0;

	nr = min_t(unsigned int, atomic_read(&klp_trans.nr_blockers),
		   KLP_MAX_BLOCKERS);
	for (i = 0; i < nr; i++)
		if (klp_blocker_still_pending(&klp_trans.blockers[i]))
			out[copied++] = klp_trans.blockers[i];
	return copied;
}

/*
 * Switching in cond_resched().
 *
 * A kernel thread that is always busy never sleeps (no round finds it off
 * its CPU with a stack that can be checked) and never returns to user space
 * (it never switches itself there): a transition would wait for it forever.
 * Such a thread calls cond_resched() now and then, and there its own stack
 * can be unwound reliably: a task may always unwind itself, from a plain
 * call, with no interrupt frame on the stack.  So while a transition runs,
 * cond_resched() calls __klp_sched_try_switch() (the scheduler's side is
 * include/linux/livepatch_sched.h and a few lines of kernel/sched/core.c
 * and include/linux/sched.h, laid into the tree as
 * harness/patches/livepatch-sched.patch), which checks the stack of the
 * current task against the ranges of the transition, as a round would, and
 * switches it when nothing it leaves behind is on its stack.  The frames of
 * cond_resched() and of this function are on that stack too: were one of
 * them patched, the task would only find itself blocked, never switch
 * wrongly.
 *
 * What the check reads, and under which lock: everything that a round
 * reads, under the same klp_mutex.  The hook runs wherever cond_resched()
 * runs, under whatever sleeping locks its caller holds, so it only tries
 * the mutex (mutex_trylock() never waits, so it cannot deadlock, and lockdep
 * records no dependency on it from the caller's locks) and returns when
 * someone else holds it, the task itself included (the transition work
 * calls cond_resched() between its batches); the task tries again at its
 * next cond_resched().  Nothing the hook does while it holds klp_mutex
 * sleeps.  It returns at once in atomic context (preempt_count() not 0, or
 * interrupts off): a mutex may only be taken by a task, and a
 * cond_resched() there is a bug of its caller that goes unnoticed where
 * cond_resched() does nothing (CONFIG_PREEMPT).  Holding klp_mutex, no
 * round runs (rounds and their helpers run under the leader's klp_mutex),
 * so klp_trans.stack_entries, the leader's scratch space, is free, the
 * patch and its func stacks cannot change (module coming and going,
 * reversal, completion all hold klp_mutex), and no other walker can check
 * or switch this task meanwhile.  The ranges of the round (klp_trans.ranges)
 * are freed after each round; the hook makes each function's ranges anew,
 * every time (a module coming during the transition adds some), and
 * allocates nothing: an allocation here could recurse into reclaim under
 * the caller's locks, and one made for the transition would be a way for
 * enabling a patch to fail that only costs memory (klp_sched_stack_blocked()).
 *
 * Cost: nothing but a static branch (klp_sched_try_switch_key, enabled only
 * between klp_trans_begin() and klp_trans_finish()) when no transition
 * runs, and a test of TIF_PATCH_PENDING in the tasks without the mark.
 * A task that finds itself blocked (it is in a patched function) has its
 * CPU skip the check for the rest of the jiffy, so a task calling
 * cond_resched() in a loop inside a patched function costs one check per
 * tick, not one per call.
 *
 * The preemption models:
 *  - PREEMPT_NONE, PREEMPT_VOLUNTARY (static, or PREEMPT_DYNAMIC booted
 *    with preempt=none or preempt=voluntary): cond_resched() calls
 *    __cond_resched() (directly, or through the static call that points
 *    there), and so does might_sleep() under voluntary; the hook runs first
 *    there, at every one of these calls.  The task switches before the
 *    scheduler may switch it out, at a point where it runs no patched code
 *    of its own frame.  Holding klp_mutex the task is not preempted (under
 *    none and voluntary only an explicit scheduling point switches it out,
 *    and the hook has none).
 *  - Static CONFIG_PREEMPT (no PREEMPT_DYNAMIC): cond_resched() is an
 *    inline function of include/linux/sched.h that schedules nothing; the
 *    scheduler patch makes it call klp_sched_try_switch() all the same, so
 *    the hook runs at every cond_resched(), in modules too (hence the
 *    exports; EXPORT_SYMBOL, as cond_resched() serves every module).  The
 *    task may be preempted while it holds klp_mutex, which is a sleeping
 *    lock: whoever waits for it sleeps, and the check itself only reads the
 *    task's own stack, which preemption does not change under it.
 *  - PREEMPT_DYNAMIC booted with preempt=full: cond_resched() is a static
 *    call that returns 0, so the hook never runs.  A busy kernel thread is
 *    preempted (from an interrupt, a stack that ORC unwinds reliably) only
 *    when another task runs on its CPU; a round on another CPU finds it
 *    running, and only a round that itself runs on the thread's CPU, or
 *    meets it preempted by chance, can check and switch it (never on an
 *    isolated CPU, where no round runs).  When a round after the first
 *    finds a kernel thread running or with an unreliable stack, it asks
 *    (klp_sched_note_blocked()) for cond_resched() to call __cond_resched()
 *    (sched_dynamic_klp_enable(), which re-points the static call;
 *    __cond_resched() under full preemption only reschedules when a
 *    reschedule is due anyway, which preemption would do at the next
 *    preempt_enable() or interrupt), and from then on the hook runs as
 *    under none, preemptible as under CONFIG_PREEMPT.  This is done only
 *    then, not for every transition: re-pointing the static call patches
 *    every call site of cond_resched() in the kernel, one after the other
 *    (about 3.8 s each way under TCG).  A work item of its own does it
 *    (klp_sched_flip_fn(): text patching sleeps, and the rounds' walkers
 *    hold the RCU read lock), without klp_mutex: rounds go on meanwhile,
 *    the hook already runs at the call sites patched so far, and a
 *    transition never waits for a flip.  When the transition ends the
 *    static call is given back to the model only after KLP_SCHED_LINGER
 *    without another transition that asks for it, so that transitions in
 *    a row (an enable, then a disable) pay for one flip each way, not one
 *    per transition.
 */

/* How long cond_resched() keeps calling the hook after a transition. */
#define KLP_SCHED_LINGER	(5 * HZ)

/* The state of switching in cond_resched(). */
static struct {
	/*
	 * Bit 0: a round of this transition asked for cond_resched() to call
	 * the hook under preempt=full.  Set by the rounds' walkers (an atomic
	 * bit operation: they run concurrently), cleared by
	 * klp_sched_finish(); both under the leader's klp_mutex.
	 */
	unsigned long wanted;
	/*
	 * sched_dynamic_klp_enable() is in force.  Only klp_sched_flip_fn()
	 * touches it: a work item never runs twice at once.
	 */
	bool flipped;
} klp_sched;

/*
 * klp_sched_try_switch_key - on while a transition runs (klp_sched_begin()
 * to klp_sched_finish()): only then does klp_sched_try_switch()
 * (include/linux/livepatch_sched.h), inlined in cond_resched(), look at the
 * task at all.  Exported for modules that call cond_resched() under a
 * static CONFIG_PREEMPT, where that is an inline function.
 */
DEFINE_STATIC_KEY_FALSE(klp_sched_try_switch_key);
EXPORT_SYMBOL(klp_sched_try_switch_key);

/* jiffies when a task on this CPU last found itself blocked. */
static DEFINE_PER_CPU(unsigned long, klp_sched_blocked_at);

/*
 * Make the cond_resched static call what klp_sched.wanted asks for.  Queued
 * again whenever that changes, so a change made while it runs is followed
 * by another run.
 */
static void klp_sched_flip_fn(struct work_struct *work)
{
	bool wanted = test_bit(0, &klp_sched.wanted);

	if (wanted == klp_sched.flipped)
		return;
	if (wanted)
		sched_dynamic_klp_enable();
	else
		sched_dynamic_klp_disable();
	klp_sched.flipped = wanted;
	pr_debug("cond_resched() %s\n", wanted ?
		 "calls the scheduler for the transition" :
		 "is the preemption model's again");
}

static DECLARE_DELAYED_WORK(klp_sched_flip_work, klp_sched_flip_fn);

/*
 * A round could not switch @task (klp_try_switch() returned @ret).  A
 * kernel thread that is running, or that was preempted from an interrupt
 * (unreliable stack), can only switch itself in cond_resched(); under
 * full preemption of a PREEMPT_DYNAMIC kernel make cond_resched() call the
 * hook.  Not for idle tasks, which switch in the idle loop, nor in the
 * first round, where a kernel thread is often found running for a moment:
 * only one still found so after a retry (retry_delay has doubled; the
 * leader, which holds klp_mutex, changes it only between rounds).  Called
 * by the rounds' walkers, under the RCU read lock.
 */
static void klp_sched_note_blocked(struct task_struct *task, int ret)
{
	if (!IS_ENABLED(CONFIG_PREEMPT_DYNAMIC) || !preempt_model_full())
		return;
	if (!(task->flags & PF_KTHREAD) || is_idle_task(task) ||
	    (ret != -EBUSY && ret != -EINVAL))
		return;
	if (READ_ONCE(klp_trans.retry_delay) <= KLP_RETRY_MIN)
		return;
	if (!test_and_set_bit(0, &klp_sched.wanted))
		mod_delayed_work(system_unbound_wq, &klp_sched_flip_work, 0);
}

/*
 * Whether the @nr @entries of a stack hold code that a transition of
 * @patch to @target leaves behind: the ranges of klp_fill_ranges(), made
 * and checked one function at a time, so that nothing is allocated (see
 * above).  Functions times entries comparisons, for each task once, or
 * once per jiffy and CPU while it is blocked.  Context: klp_mutex held.
 */
KLP_VISIBLE_IF_KUNIT bool klp_sched_stack_blocked(struct klp_patch *patch,
						  int target,
						  const unsigned long *entries,
						  unsigned int nr)
{
	struct klp_range range[KLP_FUNC_RANGES];
	struct klp_object *obj;
	struct klp_func *func;
	unsigned int i;

	klp_for_each_object(patch, obj) {
		klp_for_each_func(obj, func) {
			if (!klp_func_ranges(func, target, range))
				continue;
			for (i = 0; i < KLP_FUNC_RANGES; i++)
				if (klp_stack_blocked_by(&range[i], 1, entries,
							 nr))
					return true;
		}
	}
	return false;
}

/*
 * Let tasks switch in cond_resched() from now on; called by
 * klp_trans_begin(), also when a reversal begins the transition anew.
 * Context: klp_mutex held.
 */
static void klp_sched_begin(void)
{
	if (!static_key_enabled(&klp_sched_try_switch_key))
		static_branch_enable(&klp_sched_try_switch_key);
}

/*
 * The transition ends (completed or cancelled): no task has
 * TIF_PATCH_PENDING any more, and none can be inside the hook, which runs
 * under klp_mutex only.  A flip of the static call is undone later (see
 * KLP_SCHED_LINGER).  Context: klp_mutex held.
 */
static void klp_sched_finish(void)
{
	if (static_key_enabled(&klp_sched_try_switch_key))
		static_branch_disable(&klp_sched_try_switch_key);
	if (test_and_clear_bit(0, &klp_sched.wanted))
		mod_delayed_work(system_unbound_wq, &klp_sched_flip_work,
				 KLP_SCHED_LINGER);
}

/**
 * __klp_sched_try_switch() - switch the current task in cond_resched()
 *
 * Context: task context, any preemption model; never sleeps, and returns at
 * once in atomic context.  Called by cond_resched() through
 * klp_sched_try_switch() while a transition runs and the current task has
 * TIF_PATCH_PENDING set.  If klp_mutex is free and no function that the
 * transition leaves behind is on the task's own stack, the task takes the
 * target state, as it would on its way to user space (the tracepoint says
 * "by=self"), and kicks the transition if it was the last task to switch.
 * Otherwise it returns, and the task tries again later.  See "Switching in
 * cond_resched()" above.
 */
void __klp_sched_try_switch(void)
{
	unsigned long now = jiffies;
	int nr;

	if (unlikely(preempt_count() || irqs_disabled()))
		return;
	/* Same tick as a blocked check on this CPU (equality: no wrap issue). */
	if (raw_cpu_read(klp_sched_blocked_at) == now)
		return;
	if (!mutex_trylock(&klp_mutex))
		return;

	/* The transition may have ended, or a reversal cleared the flag. */
	if (!klp_trans_patch || !klp_patch_pending(current))
		goto unlock;

	/* Called from cond_resched(): never inside a thunk; checked all the same. */
	nr = stack_trace_save_tsk_reliable(current, klp_trans.stack_entries,
					   KLP_MAX_STACK_ENTRIES);
	if (nr < 0 || klp_trace_cut(klp_trans.stack_entries, nr) ||
	    klp_sched_stack_blocked(klp_trans_patch, klp_trans_target,
				    klp_trans.stack_entries, nr)) {
		raw_cpu_write(klp_sched_blocked_at, now);
		goto unlock;
	}

	current->patch_state = klp_trans_target;
	trace_klp_task_switch(current->pid, current->comm, klp_trans_target,
			      KLP_BY_SELF);
	if (klp_unflag_pending(current))
		klp_kick_transition();
unlock:
	mutex_unlock(&klp_mutex);
}
EXPORT_SYMBOL(__klp_sched_try_switch);
