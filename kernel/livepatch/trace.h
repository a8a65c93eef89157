/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tracepoints of the live patching transition (trace system "livepatch").
 * Disabled tracepoints cost a static branch.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM livepatch

#if !defined(_KLP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KLP_TRACE_H

#include <linux/tracepoint.h>

DECLARE_EVENT_CLASS(klp_transition_class,
	TP_PROTO(const char *patch, int target),
	TP_ARGS(patch, target),
	TP_STRUCT__entry(
		__string(patch, patch)
		__field(int, target)
	),
	TP_fast_assign(
		__assign_str(patch, patch);
		__entry->target = target;
	),
	TP_printk("patch=%s target=%s", __get_str(patch),
		  __entry->target ? "patched" : "unpatched")
);

/* A transition of @patch towards @target begins. */
DEFINE_EVENT(klp_transition_class, klp_transition_start,
	TP_PROTO(const char *patch, int target),
	TP_ARGS(patch, target));

/* The transition was turned around; @target is the new target. */
DEFINE_EVENT(klp_transition_class, klp_transition_reverse,
	TP_PROTO(const char *patch, int target),
	TP_ARGS(patch, target));

/* An administrator forced the remaining tasks to @target. */
DEFINE_EVENT(klp_transition_class, klp_transition_force,
	TP_PROTO(const char *patch, int target),
	TP_ARGS(patch, target));

/* Every task reached @target. */
DEFINE_EVENT(klp_transition_class, klp_transition_complete,
	TP_PROTO(const char *patch, int target),
	TP_ARGS(patch, target));

TRACE_DEFINE_ENUM(KLP_BY_STACK_CHECK);
TRACE_DEFINE_ENUM(KLP_BY_SELF);
TRACE_DEFINE_ENUM(KLP_BY_STACK_SCAN);

/*
 * @pid switched to @target, by itself or after a check of its stack by a
 * round: an unwind ("stack-check") or a scan of its words ("stack-scan").
 */
TRACE_EVENT(klp_task_switch,
	TP_PROTO(int pid, const char *comm, int target, enum klp_switch_by by),
	TP_ARGS(pid, comm, target, by),
	TP_STRUCT__entry(
		__field(int, pid)
		__array(char, comm, TASK_COMM_LEN)
		__field(int, target)
		__field(u8, by)
	),
	TP_fast_assign(
		__entry->pid = pid;
		memcpy(__entry->comm, comm, TASK_COMM_LEN);
		__entry->target = target;
		__entry->by = by;
	),
	TP_printk("pid=%d comm=%s target=%s by=%s", __entry->pid,
		  __entry->comm, __entry->target ? "patched" : "unpatched",
		  __print_symbolic(__entry->by,
				   { KLP_BY_STACK_CHECK, "stack-check" },
				   { KLP_BY_SELF, "self" },
				   { KLP_BY_STACK_SCAN, "stack-scan" }))
);

/* A stack check found @pid blocking the transition, and why. */
TRACE_EVENT(klp_task_blocked,
	TP_PROTO(int pid, const char *comm, const char *reason,
		 const char *func),
	TP_ARGS(pid, comm, reason, func),
	TP_STRUCT__entry(
		__field(int, pid)
		__array(char, comm, TASK_COMM_LEN)
		__string(reason, reason)
		__string(func, func)
	),
	TP_fast_assign(
		__entry->pid = pid;
		memcpy(__entry->comm, comm, TASK_COMM_LEN);
		__assign_str(reason, reason);
		__assign_str(func, func);
	),
	TP_printk("pid=%d comm=%s reason=%s function=%s", __entry->pid,
		  __entry->comm, __get_str(reason), __get_str(func))
);

/*
 * A call of a patched function went through the ftrace handler (during a
 * transition, with livepatch.direct=0, or at a site that another ftrace
 * user shares): the function at @ip runs @target (0: the original).
 */
TRACE_EVENT(klp_handler,
	TP_PROTO(unsigned long ip, unsigned long target),
	TP_ARGS(ip, target),
	TP_STRUCT__entry(
		__field(unsigned long, ip)
		__field(unsigned long, target)
	),
	TP_fast_assign(
		__entry->ip = ip;
		__entry->target = target;
	),
	TP_printk("%ps -> %ps", (void *)__entry->ip, (void *)__entry->target)
);

#endif /* _KLP_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH ../../kernel/livepatch
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
