// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_state2 - atomic replace patch declaring version 2 of the test
 * state: an upgrade of test_klp_state. The code is in test_klp_state.h.
 */

#define KLPT_STATE_VERSION	2

#include "test_klp_state.h"

MODULE_DESCRIPTION("Livepatch selftest: system state, state version 2");
