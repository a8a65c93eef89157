# Build-and-boot harness for the livepatch subsystem (see harness/).
#
#   make demo     build, boot, live patch /proc/cmdline and take it back
#   make test     build, boot, run tools/testing/selftests/livepatch
#   make test-upstream
#                 the same kernel with the 6.1 tree's own, unmodified
#                 livepatch selftests and test modules
#   make stress8  test-stress.sh alone in a guest with 8 vCPUs (fewer rounds)
#   make vm       interactive shell in the guest
#   make kernel   build only
#   make kunit    the livepatch KUnit tests (on the debug kernel under qemu)
#   make livepatch PATCH="fix.patch ..." [NAME=mod_name] [REPLACE=0|1]
#                 a live patch module made from source fixes by
#                 scripts/livepatch/klp-build, for the kernel make test boots
#   make klp-build-test
#                 klp-build's checks (the corpus in
#                 tools/testing/selftests/livepatch/klp-build)
#   make deb [KCONFIG=distro]
#                 linux-image and linux-headers packages (bindeb-pkg) of
#                 Debian's configuration, then booted and used in a guest
#                 (harness/deb.sh)
#   make install KSRC=/path/to/linux-6.1
#   make clean    remove the build output of KLP_IMPL/KCONFIG
#
# Variables:
#   KLP_IMPL=ours|stock      our kernel/livepatch, or the tree's own (default ours)
#   KCONFIG=default          harness/configs/<KCONFIG>.config on top of base.config
#                            (default, preempt: static CONFIG_PREEMPT=y, debug)
#   TESTS="test-a.sh ..."    run only these selftests
#   KLP_PREEMPT=none|voluntary|full
#                            boot every guest with that preemption model
#                            (KCONFIG=default; make test otherwise boots one
#                            guest per model, harness/run-tests.sh)
#   KLP_VM_TIMEOUT=<s>       kill the guest after this long (1200 test, 300 demo)
#   KLP_KVM=0|1              skip the KVM probe
#   CASES="main disturb"     make bench: which cases (main: the 2-vCPU guests'
#                            cases; disturb: the disturbance case)
#   ONLY="parts k1000"       make bench: only these steps of the guests
#                            (harness/bench/bench.sh, KLP_BENCH_ONLY)
#   REPS=N                   make bench: N samples of each transition case
#                            per boot, for hunting a rare failure with ONLY
#                            (KLP_BENCH_REPS; not for figures)
# Build output lives in $${XDG_CACHE_HOME:-~/.cache}/klp.

comma := ,
space := $(subst ,, )

KLP_IMPL ?= ours
KCONFIG ?= default
TESTS ?=
KSRC ?=
CASES ?= $(KLP_BENCH_CASES)
ONLY ?= $(KLP_BENCH_ONLY)
REPS ?= $(KLP_BENCH_REPS)
PATCH ?=
NAME ?=
REPLACE ?= 1

# Only our own names reach the scripts; the rest of the command line must
# not leak into the kernel's make.
export KLP_IMPL
export KLP_KCONFIG := $(KCONFIG)
export KLP_TESTS := $(TESTS)
export KLP_BENCH_CASES := $(CASES)
export KLP_BENCH_ONLY := $(subst $(space),$(comma),$(strip $(ONLY)))
export KLP_BENCH_REPS := $(REPS)
export KLP_PATCH := $(PATCH)
export KLP_NAME := $(NAME)
export KLP_REPLACE := $(REPLACE)
unexport KCONFIG TESTS KSRC CASES ONLY REPS PATCH NAME REPLACE

H := harness

.PHONY: all demo test test-upstream stress8 vm kernel kunit install clean check bench \
	livepatch klp-build-test deb

all:
	@echo "targets: demo test test-upstream stress8 vm kernel kunit install clean check bench livepatch klp-build-test deb"

demo:
	@$(H)/klp.sh demo

test:
	@$(H)/klp.sh test

test-upstream:
	@$(H)/klp.sh test-upstream

# make stress8: the stress test in an 8-vCPU guest (harness/klp.sh).
stress8:
	@$(H)/klp.sh stress8

vm:
	@$(H)/klp.sh vm

kernel:
	@$(H)/klp.sh kernel

# make kunit: KUnit tests of kernel/livepatch (harness/kunit.sh); with
# KLP_IMPL=stock it says that stock has none and succeeds.
kunit:
	@$(H)/kunit.sh

install:
	@$(H)/install.sh "$(KSRC)"

clean:
	@$(H)/klp.sh clean

check:
	@$(H)/check.sh

# make bench [QUICK=1] [CASES=disturb]: ours vs stock side by side
# (harness/bench/bench.sh).
bench:
	@KLP_BENCH_QUICK=$(QUICK) $(H)/klp.sh bench

# make livepatch PATCH="fix.patch ..." [NAME=mod_name] [REPLACE=0|1]
livepatch:
	@$(H)/klp.sh livepatch

klp-build-test:
	@$(H)/klp.sh klp-build-test

# make deb: KCONFIG defaults to distro here (Debian's configuration); a
# KCONFIG given on the command line or in the environment wins.
deb:
	@KLP_KCONFIG=$(if $(filter file,$(origin KCONFIG)),distro,$(KCONFIG)) $(H)/deb.sh
