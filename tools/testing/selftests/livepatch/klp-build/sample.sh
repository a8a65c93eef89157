# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# The sample of samples/livepatch built by the tool: the fix of
# livepatch-sample.c as a source patch (klp-build-sample.patch).
# klp-build: ../../../../../samples/livepatch/klp-build-sample.patch
# changed fs/proc/cmdline.c cmdline_proc_show
patch_case klp_sample "this has been live patched" cat /proc/cmdline
