// SPDX-License-Identifier: GPL-2.0
/*
 * getpid_loop - helper of test-syscall.sh: NTASKS processes call the
 * getpid() system call in a loop and check every result.
 *
 * Usage: getpid_loop NTASKS
 *
 * Each child compares every getpid() result with its thread id from
 * gettid(), a different system call, which for a single-threaded process
 * is the pid.  The children run at nice 19 so that the test script stays
 * responsive while they keep the CPUs busy.
 *
 * The parent prints "ready <NTASKS>" once all children run, then waits:
 *   SIGUSR1  print "calls <total calls so far>"
 *   SIGTERM  stop the children, print
 *            "done tasks <n> calls <total> wrong <total> idle <n>"
 *            and exit 0 if no result was wrong and every child made calls,
 *            1 otherwise (with a line per failing child on stderr).
 */

#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/syscall.h>
#include "klp_workers.h"

/* Shared with the parent (MAP_SHARED); accessed with READ()/WRITE(). */
struct child {
	unsigned long calls;
	unsigned long wrong;
	long last_wrong;
};

static struct child *children;
static int nr_children;

static void child_loop(int idx)
{
	struct child *c = &children[idx];
	long want = syscall(SYS_gettid);
	int i;

	while (!READ(stop)) {
		for (i = 0; i < 256; i++) {
			long got = syscall(SYS_getpid);

			if (got != want) {
				WRITE(c->wrong, c->wrong + 1);
				WRITE(c->last_wrong, got);
			}
		}
		WRITE(c->calls, c->calls + 256);
	}
	_exit(0);
}

static unsigned long total_calls(void)
{
	unsigned long sum = 0;
	int i;

	for (i = 0; i < nr_children; i++)
		sum += READ(children[i].calls);
	return sum;
}

static void print_progress(void)
{
	printf("calls %lu\n", total_calls());
}

int main(int argc, char **argv)
{
	unsigned long calls, wrong = 0;
	int n, i, idle = 0, failed;
	pid_t *pids;

	n = argc == 2 ? atoi(argv[1]) : 0;
	if (n <= 0 || n > 4096) {
		fprintf(stderr, "usage: %s NTASKS (1..4096)\n", argv[0]);
		return 2;
	}
	children = workers_map(n * sizeof(*children));
	pids = calloc(n, sizeof(*pids));
	if (!children || !pids)
		return 2;
	nr_children = n;
	if (workers_start(n, pids, child_loop))
		return 2;
	workers_wait(print_progress);
	failed = workers_stop(n, pids);

	for (i = 0; i < n; i++) {
		struct child *c = &children[i];

		if (c->wrong) {
			fprintf(stderr, "child %d: %lu of %lu getpid() calls wrong, last %ld\n",
				pids[i], c->wrong, c->calls, c->last_wrong);
			wrong += c->wrong;
		}
		if (!c->calls) {
			fprintf(stderr, "child %d made no calls\n", pids[i]);
			idle++;
		}
	}
	calls = total_calls();
	printf("done tasks %d calls %lu wrong %lu idle %d\n", n, calls, wrong,
	       idle);
	return wrong || idle || failed ? 1 : 0;
}
