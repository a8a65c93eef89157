// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Second half of a symbol name shared by two functions of vmlinux, for the
 * symbol-resolution KUnit tests in livepatch_kunit.c: this file and that one
 * each define a local function klp_kunit_twin(), so kallsyms holds the name
 * twice and only "old_sympos" tells the two apart.
 */

#include "internal.h"

static noinline int klp_kunit_twin(int x)
{
	return x + 2;
}

int (*const klp_kunit_twin_b)(int x) = klp_kunit_twin;
