// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_state - atomic replace patch declaring version 1 of the test
 * state. The code is in test_klp_state.h.
 */

#define KLPT_STATE_VERSION	1

#include "test_klp_state.h"

MODULE_DESCRIPTION("Livepatch selftest: system state, state version 1");
