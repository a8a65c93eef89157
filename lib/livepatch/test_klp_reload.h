/* SPDX-License-Identifier: GPL-2.0 */
/*
 * References of test_klp_reload_patch to static symbols of the module
 * test_klp_reload_target, spelled as markers for lib/livepatch/klp_convert.py.
 *
 * KLP_REF(obj, sym, pos) gives a declaration the assembler name
 * ".klp.ref.<obj>.<sym>.<pos>"; klp_convert.py renames such a symbol to the
 * livepatch symbol ".klp.sym.<obj>.<sym>,<pos>" and moves its relocations
 * into ".klp.rela.<obj>.<section>" sections.  The declarations are weak so
 * that modpost does not report the markers as undefined.
 */
#ifndef _TEST_KLP_RELOAD_H
#define _TEST_KLP_RELOAD_H

#include <linux/compiler.h>

#define KLP_REF(obj, sym, pos)	__asm__(".klp.ref." #obj "." #sym "." #pos)

/* static int secret; */
extern int test_klp_reload_secret
	KLP_REF(test_klp_reload_target, secret, 0) __weak;

/* static int test_klp_reload_scramble(int v); */
int test_klp_reload_scramble(int v)
	KLP_REF(test_klp_reload_target, test_klp_reload_scramble, 0) __weak;

#endif /* _TEST_KLP_RELOAD_H */
