/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x86 parts of live patching.
 *
 * x86's apply_relocate_add() refuses to write a relocation over a non-zero
 * value.  A live patch for a module has its relocations for that module
 * applied each time the module loads, so they must be cleared again when
 * the module goes away, or the next load of the module would be refused.
 */
#ifndef _ASM_X86_LIVEPATCH_H
#define _ASM_X86_LIVEPATCH_H

#include <linux/elf.h>
#include <linux/memory.h>
#include <linux/mutex.h>
#include <linux/sched/task_stack.h>
#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/alternative.h>
#include <asm/cpufeature.h>
#include <asm/ibt.h>
#include <asm/nospec-branch.h>
#include <asm/text-patching.h>

/* The number of bytes a relocation of @type writes, 0 for none. */
static inline size_t klp_arch_reloc_size(unsigned int type)
{
	switch (type) {
	case R_X86_64_64:
	case R_X86_64_PC64:
		return 8;
	case R_X86_64_32:
	case R_X86_64_32S:
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
		return 4;
	default:
		return 0;
	}
}

/**
 * klp_arch_clear_relocs() - undo what one relocation section wrote
 * @sechdrs: section headers of the live patch module
 * @relsec: index of a SHF_RELA_LIVEPATCH section
 *
 * Every place the section relocates is set back to zero.  The module's text
 * is read-only by now, so the writes go through text_poke().
 */
static inline void klp_arch_clear_relocs(Elf64_Shdr *sechdrs,
					 unsigned int relsec)
{
	static const u64 zero;
	Elf64_Shdr *relasec = &sechdrs[relsec];
	Elf64_Rela *rela = (Elf64_Rela *)relasec->sh_addr;
	unsigned long base = sechdrs[relasec->sh_info].sh_addr;
	unsigned int i, nr = relasec->sh_size / sizeof(*rela);

	mutex_lock(&text_mutex);
	for (i = 0; i < nr; i++) {
		size_t len = klp_arch_reloc_size(ELF64_R_TYPE(rela[i].r_info));

		if (len)
			text_poke((void *)(base + rela[i].r_offset), &zero,
				  len);
	}
	text_poke_sync();
	mutex_unlock(&text_mutex);
}

#define klp_arch_clear_relocs klp_arch_clear_relocs

/*
 * Calls without the handler (kernel/livepatch/patch.c): klp_ops' ftrace
 * trampoline is the handler trampoline, and each patched function's call
 * site calls a stub of its own instead (ftrace_ops::site_trampoline).
 *
 * The handler trampoline does for klp_ops what the trampoline ftrace would
 * make for it does: the argument registers saved in a struct ftrace_regs
 * on the stack (with a zero cs, so that ftrace_get_regs() says there are no
 * full registers), the handler called with the site, its caller, klp_ops
 * and those registers, and a return to the ip the handler may have
 * changed.
 * It is entered with the return address of the site's call on top of the
 * stack, from the site itself or through a stub's first jump.
 *
 * A stub (KLP_STUB_SIZE bytes):
 *   +0   jmp <handler trampoline>   or a 5-byte nop (the "head")
 *   +5   lea 0x8(%rsp),%rsp         drop the return into the original
 *   +10  jmp <replacement>          (the "tail")
 *   +15  int3
 * With the jmp at its head the stub is the handler's way in; with the nop
 * the call reaches the replacement with two instructions and no indirect
 * branch, so neither retpolines nor return thunks nor IBT are involved.
 * Head and tail are each one 5-byte instruction that text_poke_queue()
 * rewrites (a jmp rel32, or the nop it emulates as a jmp to the next
 * instruction).
 */
#define KLP_TRAMP_MAX		0x100
#define KLP_STUB_SIZE		16
#define KLP_STUB_TAIL		10

struct klp_emit {
	u8 *code;		/* KLP_TRAMP_MAX bytes */
	unsigned long at;	/* the address code[0] will run at */
	unsigned int len;
	bool ok;
};

static inline void klp_emit_bytes(struct klp_emit *e, const u8 *bytes,
				  unsigned int n)
{
	if (e->len + n > KLP_TRAMP_MAX) {
		e->ok = false;
		return;
	}
	memcpy(e->code + e->len, bytes, n);
	e->len += n;
}

static inline void klp_emit_u64(struct klp_emit *e, u64 val)
{
	klp_emit_bytes(e, (const u8 *)&val, sizeof(val));
}

/* A jmp (0xe9) or call (0xe8) rel32 to @to. */
static inline void klp_emit_rel32(struct klp_emit *e, u8 op, unsigned long to)
{
	long rel = (long)to - (long)(e->at + e->len + 5);
	s32 rel32 = rel;

	if (rel != rel32) {
		e->ok = false;
		return;
	}
	klp_emit_bytes(e, &op, 1);
	klp_emit_bytes(e, (const u8 *)&rel32, sizeof(rel32));
}

static inline void klp_emit_ret(struct klp_emit *e)
{
	static const u8 ret[] = { 0xc3, 0xcc };

#ifdef CONFIG_RETHUNK
	if (cpu_wants_rethunk()) {
		klp_emit_rel32(e, 0xe9, (unsigned long)x86_return_thunk);
		return;
	}
#endif
	klp_emit_bytes(e, ret, sizeof(ret));
}

/**
 * klp_arch_write_handler_tramp() - generate the handler trampoline
 * @code: KLP_TRAMP_MAX bytes to fill
 * @at: the address the code will run at
 * @handler: the ftrace handler of klp_ops
 * @ops: klp_ops, the handler's third argument
 *
 * Return: the length of the code, 0 when it does not fit or the handler is
 * out of reach of a rel32 from @at.
 */
static inline unsigned int klp_arch_write_handler_tramp(u8 *code,
							unsigned long at,
							unsigned long handler,
							unsigned long ops)
{
	static const u8 save[] = {
		0x48, 0x81, 0xec, 0xa8, 0, 0, 0,	/* sub $0xa8,%rsp: ftrace_regs */
		0x48, 0xc7, 0x84, 0x24, 0x88, 0, 0, 0, 0, 0, 0, 0,
					/* movq $0,0x88(%rsp): regs.cs, no regs */
		0x48, 0x89, 0x7c, 0x24, 0x70,	/* mov %rdi,0x70(%rsp) */
		0x48, 0x89, 0x74, 0x24, 0x68,	/* mov %rsi,0x68(%rsp) */
		0x48, 0x89, 0x54, 0x24, 0x60,	/* mov %rdx,0x60(%rsp) */
		0x48, 0x89, 0x4c, 0x24, 0x58,	/* mov %rcx,0x58(%rsp) */
		0x48, 0x89, 0x44, 0x24, 0x50,	/* mov %rax,0x50(%rsp) */
		0x4c, 0x89, 0x44, 0x24, 0x48,	/* mov %r8,0x48(%rsp) */
		0x4c, 0x89, 0x4c, 0x24, 0x40,	/* mov %r9,0x40(%rsp) */
		0x48, 0x8b, 0xbc, 0x24, 0xa8, 0, 0, 0,
						/* mov 0xa8(%rsp),%rdi: site + 5 */
		0x48, 0x89, 0xbc, 0x24, 0x80, 0, 0, 0,
						/* mov %rdi,0x80(%rsp): regs.ip */
		0x48, 0x83, 0xef, 0x05,		/* sub $0x5,%rdi: ip, the site */
		0x48, 0x8b, 0xb4, 0x24, 0xb0, 0, 0, 0,
						/* mov 0xb0(%rsp),%rsi: parent_ip */
		0x48, 0xba,			/* movabs $ops,%rdx (imm64 follows) */
	};
	static const u8 args[] = {
		0x48, 0x89, 0xe1,		/* mov %rsp,%rcx: fregs */
	};
	static const u8 restore[] = {
		0x4c, 0x8b, 0x9c, 0x24, 0x80, 0, 0, 0,
						/* mov 0x80(%rsp),%r11: regs.ip */
		0x4c, 0x89, 0x9c, 0x24, 0xa8, 0, 0, 0,
						/* mov %r11,0xa8(%rsp): return there */
		0x48, 0x8b, 0x7c, 0x24, 0x70,	/* mov 0x70(%rsp),%rdi */
		0x48, 0x8b, 0x74, 0x24, 0x68,	/* mov 0x68(%rsp),%rsi */
		0x48, 0x8b, 0x54, 0x24, 0x60,	/* mov 0x60(%rsp),%rdx */
		0x48, 0x8b, 0x4c, 0x24, 0x58,	/* mov 0x58(%rsp),%rcx */
		0x48, 0x8b, 0x44, 0x24, 0x50,	/* mov 0x50(%rsp),%rax */
		0x4c, 0x8b, 0x44, 0x24, 0x48,	/* mov 0x48(%rsp),%r8 */
		0x4c, 0x8b, 0x4c, 0x24, 0x40,	/* mov 0x40(%rsp),%r9 */
		0x48, 0x81, 0xc4, 0xa8, 0, 0, 0,	/* add $0xa8,%rsp */
	};
	struct klp_emit e = { .code = code, .at = at, .ok = true };

	BUILD_BUG_ON(sizeof(struct ftrace_regs) != 0xa8);
	BUILD_BUG_ON(offsetof(struct pt_regs, ip) != 0x80);
	BUILD_BUG_ON(offsetof(struct pt_regs, cs) != 0x88);
	BUILD_BUG_ON(offsetof(struct pt_regs, di) != 0x70);
	BUILD_BUG_ON(offsetof(struct pt_regs, r9) != 0x40);
	BUILD_BUG_ON(MCOUNT_INSN_SIZE != 5);

	memset(code, 0xcc, KLP_TRAMP_MAX);
	klp_emit_bytes(&e, save, sizeof(save));
	klp_emit_u64(&e, ops);
	klp_emit_bytes(&e, args, sizeof(args));
	klp_emit_rel32(&e, 0xe8, handler);
	klp_emit_bytes(&e, restore, sizeof(restore));
	klp_emit_ret(&e);
	return e.ok ? e.len : 0;
}

/*
 * A jmp rel32 from @at to @to into @insn, or false when @to is out of
 * reach (stubs, the handler trampoline and replacements all lie in the
 * module area, within 2 GiB of each other).
 */
static inline bool klp_arch_jmp_insn(u8 insn[JMP32_INSN_SIZE],
				     unsigned long at, unsigned long to)
{
	long rel = (long)to - (long)(at + JMP32_INSN_SIZE);
	s32 rel32 = rel;

	if (rel != rel32)
		return false;
	insn[0] = JMP32_INSN_OPCODE;
	memcpy(&insn[1], &rel32, sizeof(rel32));
	return true;
}

/**
 * klp_arch_stub_head() - the first instruction of a stub
 * @insn: its 5 bytes, filled in
 * @stub: the stub's address
 * @tramp: the handler trampoline
 * @direct: a nop (calls go on to the tail), or a jmp to @tramp
 *
 * Return: false when @tramp is out of reach of @stub.
 */
static inline bool klp_arch_stub_head(u8 insn[JMP32_INSN_SIZE],
				      unsigned long stub, unsigned long tramp,
				      bool direct)
{
	if (direct) {
		memcpy(insn, x86_nops[JMP32_INSN_SIZE], JMP32_INSN_SIZE);
		return true;
	}
	return klp_arch_jmp_insn(insn, stub, tramp);
}

/**
 * klp_arch_stub_init() - a stub's code when it is made
 * @code: KLP_STUB_SIZE bytes, filled in
 * @stub: the address the stub will run at
 * @tramp: the handler trampoline, where the stub's head jumps
 *
 * The tail traps until a replacement is written there: nothing reaches it
 * while the head jumps away.
 *
 * Return: false when @tramp is out of reach of @stub.
 */
static inline bool klp_arch_stub_init(u8 code[KLP_STUB_SIZE],
				      unsigned long stub, unsigned long tramp)
{
	static const u8 drop_ret[] = {
		0x48, 0x8d, 0x64, 0x24, 0x08,	/* lea 0x8(%rsp),%rsp */
	};

	BUILD_BUG_ON(JMP32_INSN_SIZE + sizeof(drop_ret) != KLP_STUB_TAIL);
	memset(code, INT3_INSN_OPCODE, KLP_STUB_SIZE);
	memcpy(code + JMP32_INSN_SIZE, drop_ret, sizeof(drop_ret));
	return klp_arch_stub_head(code, stub, tramp, false);
}

/**
 * klp_arch_stub_tail() - the instruction that reaches @target from a stub
 * @insn: its 5 bytes, filled in
 * @stub: the stub's address
 * @target: the replacement function
 *
 * Return: false when @target is out of reach of @stub.
 */
static inline bool klp_arch_stub_tail(u8 insn[JMP32_INSN_SIZE],
				      unsigned long stub, unsigned long target)
{
	return klp_arch_jmp_insn(insn, stub + KLP_STUB_TAIL, target);
}

/**
 * klp_arch_saved_stack() - the words of a switched-out task's kernel stack
 * @task: a task that is not running and has finished switching out
 * @from: set to the lowest word in use (the stack pointer the switch saved)
 * @to: set to the word after the highest (the top of the task's stack)
 *
 * On x86_64 a task is switched out on its own task stack only.  An
 * interrupt or exception taken in the kernel pushes its frame and saves
 * the registers (struct pt_regs) on the task stack, and the handler leaves
 * the IRQ stack (or runs on an IST stack, where nothing schedules) before
 * the task can be preempted; an entry from user space moves to the task
 * stack first.  So every return address of the task's frames, and the
 * instruction pointer and registers of a frame that was interrupted, lie
 * between the saved stack pointer and the top.
 *
 * Return: false when the saved stack pointer is not a word of the stack.
 */
static inline bool klp_arch_saved_stack(struct task_struct *task,
					const unsigned long **from,
					const unsigned long **to)
{
	unsigned long base = (unsigned long)task_stack_page(task);
	unsigned long top = task_top_of_stack(task);
	unsigned long sp = READ_ONCE(task->thread.sp);

	if (sp < base || sp >= top || !IS_ALIGNED(sp, sizeof(long)))
		return false;
	*from = (const unsigned long *)sp;
	*to = (const unsigned long *)top;
	return true;
}

/**
 * klp_arch_in_kprobe_slot() - whether @addr lies in an instruction slot of kprobes
 * @addr: a word of a task's stack
 *
 * An optimized kprobe replaces instructions in the middle of a function with
 * a jump to its detour buffer, which calls the probe's handler, runs the
 * replaced instructions (interrupts on, so under CONFIG_PREEMPTION the task
 * may be preempted there) and jumps back: no return address into the
 * function is on the stack meanwhile, only the detour's address (the
 * interrupted instruction).  A boosted kprobe's slot ends with a jump back
 * too.  Both are allocated by module_alloc(), in module space, so most
 * words are ruled out by two compares.
 *
 * Return: true when @addr is in a kprobe slot or an optimized kprobe's detour.
 */
static inline bool klp_arch_in_kprobe_slot(unsigned long addr)
{
	if (addr < MODULES_VADDR || addr >= MODULES_END)
		return false;
	return is_kprobe_insn_slot(addr) || is_kprobe_optinsn_slot(addr);
}

/**
 * klp_arch_in_thunk() - whether @addr lies in a retpoline, ITS or return thunk
 * @addr: an entry of a stack trace
 *
 * In 6.1 every retpoline thunk (__x86_indirect_thunk_<reg>) and ITS thunk
 * (__x86_indirect_its_thunk_<reg>) starts with UNWIND_HINT_EMPTY, which the
 * ORC unwinder reads as "the stack ends here" (6.4 split the hint into an
 * end of stack and an undefined state).  A task interrupted inside a thunk,
 * on its way from an indirect call to the function called, gets a trace
 * that stack_trace_save_tsk_reliable() calls reliable but that stops at the
 * thunk: the caller that made the call, and everything above it, is
 * missing.  At the thunk's final return (and in the return thunk it goes
 * through) the unwinder does not stop, but takes the function being called,
 * which the thunk has put where a return address goes, for a caller, and
 * goes on from its first byte with the unwind data of whatever precedes it.
 * Either way an address of the thunks' section is in the trace.  The
 * section also holds the return thunks, whose hints are right: a task found
 * in one is only looked at again later.
 *
 * Return: true when a trace that holds @addr must not be trusted.
 */
static inline bool klp_arch_in_thunk(unsigned long addr)
{
#ifdef CONFIG_RETPOLINE
	return addr >= (unsigned long)__indirect_thunk_start &&
	       addr < (unsigned long)__indirect_thunk_end;
#else
	return false;
#endif
}

#define KLP_ARCH_CUT_SYMS	2

/**
 * klp_arch_cut_syms() - code outside the thunks' section that cuts traces
 * @syms: room for KLP_ARCH_CUT_SYMS addresses
 *
 * return_to_handler(), where a function traced by the function graph
 * tracer returns, starts with UNWIND_HINT_EMPTY too; srso_alias_safe_ret(),
 * which the SRSO alias return thunk calls, sits in a section of its own and
 * may run the final return of a retpoline thunk (see klp_arch_in_thunk()).
 * The caller looks up the size of each symbol.
 *
 * Return: how many addresses were written to @syms.
 */
static inline unsigned int klp_arch_cut_syms(unsigned long *syms)
{
	unsigned int n = 0;

#ifdef CONFIG_FUNCTION_GRAPH_TRACER
	syms[n++] = (unsigned long)return_to_handler;
#endif
#ifdef CONFIG_CPU_SRSO
	syms[n++] = (unsigned long)srso_alias_safe_ret;
#endif
	return n;
}

/**
 * klp_arch_site_call() - the call of a site's stub, as ftrace writes it
 * @insn: its 5 bytes, filled in
 * @ip: the ftrace location
 * @stub: the stub's address
 *
 * Return: false when @stub is out of reach of @ip.
 */
static inline bool klp_arch_site_call(u8 insn[CALL_INSN_SIZE],
				      unsigned long ip, unsigned long stub)
{
	BUILD_BUG_ON(CALL_INSN_SIZE != JMP32_INSN_SIZE);
	if (!klp_arch_jmp_insn(insn, ip, stub))
		return false;
	insn[0] = CALL_INSN_OPCODE;
	return true;
}

/**
 * klp_arch_site_jump() - a jump from a site straight to its replacement
 * @insn: its 5 bytes, filled in
 * @ip: the ftrace location
 * @target: the replacement function
 *
 * The ftrace location is the function's first instruction (after its
 * endbr, if any), so a jump there enters the replacement with the stack
 * its caller left: what the call of the stub and the stub's "lea
 * 0x8(%rsp),%rsp" and tail do, in one instruction.
 *
 * Return: false when @target is out of reach of @ip.
 */
static inline bool klp_arch_site_jump(u8 insn[JMP32_INSN_SIZE],
				      unsigned long ip, unsigned long target)
{
	return klp_arch_jmp_insn(insn, ip, target);
}

/**
 * klp_arch_site_target() - where the ftrace call at @ip goes now
 * @ip: an ftrace location that ftrace traces (a 5-byte call)
 *
 * For the sysfs view of a function: whether ftrace points the site at
 * klp_ops' own trampoline (only klp_ops traces it) or at its generic
 * trampoline (other ftrace users share it).  A read of kernel text that
 * text_poke_bp() may be rewriting: the first byte is an int3 then, and
 * the copy, which is not atomic, may mix two versions of the offset, so
 * the instruction is read twice.
 *
 * Return: the call's target, or the jump's (klp_arch_site_jump()); 0 when
 * @ip holds neither (a nop: ftrace stopped tracing it), 1 while it is
 * being rewritten.
 */
static inline unsigned long klp_arch_site_target(unsigned long ip)
{
	u8 insn[CALL_INSN_SIZE], again[CALL_INSN_SIZE];
	s32 rel;

	if (copy_from_kernel_nofault(insn, (void *)ip, sizeof(insn)) ||
	    copy_from_kernel_nofault(again, (void *)ip, sizeof(again)) ||
	    memcmp(insn, again, sizeof(insn)) || insn[0] == INT3_INSN_OPCODE)
		return 1;
	if (insn[0] != CALL_INSN_OPCODE && insn[0] != JMP32_INSN_OPCODE)
		return 0;
	memcpy(&rel, &insn[1], sizeof(rel));
	return ip + CALL_INSN_SIZE + rel;
}

#endif /* _ASM_X86_LIVEPATCH_H */
