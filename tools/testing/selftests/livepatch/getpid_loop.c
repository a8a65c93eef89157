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
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Shared with the parent (MAP_SHARED); accessed with READ()/WRITE(). */
struct child {
	unsigned long calls;
	unsigned long wrong;
	long last_wrong;
	pid_t pid;
};

#define READ(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* Set by the signal handler. */
static sig_atomic_t stop, report;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		WRITE(report, 1);
	else
		WRITE(stop, 1);
}

static void child_loop(struct child *c)
{
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

static unsigned long total_calls(struct child *c, int n)
{
	unsigned long sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += READ(c[i].calls);
	return sum;
}

int main(int argc, char **argv)
{
	unsigned long calls, wrong = 0;
	int n, i, idle = 0, failed = 0;
	struct sigaction sa;
	struct child *c;
	sigset_t mask, old;

	n = argc == 2 ? atoi(argv[1]) : 0;
	if (n <= 0 || n > 4096) {
		fprintf(stderr, "usage: %s NTASKS (1..4096)\n", argv[0]);
		return 2;
	}
	c = mmap(NULL, n * sizeof(*c), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	memset(c, 0, n * sizeof(*c));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	/* Signals arrive only in sigsuspend() below. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, &old);

	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			for (n = i, i = 0; i < n; i++)
				kill(c[i].pid, SIGKILL);
			return 2;
		}
		if (pid == 0) {
			sigprocmask(SIG_SETMASK, &old, NULL);
			if (setpriority(PRIO_PROCESS, 0, 19))
				perror("setpriority");
			child_loop(&c[i]);
		}
		c[i].pid = pid;
	}
	printf("ready %d\n", n);
	fflush(stdout);

	while (!READ(stop)) {
		sigsuspend(&old);
		if (READ(report)) {
			WRITE(report, 0);
			printf("calls %lu\n", total_calls(c, n));
			fflush(stdout);
		}
	}

	for (i = 0; i < n; i++)
		kill(c[i].pid, SIGTERM);
	for (i = 0; i < n; i++) {
		int status = 0;
		pid_t ret;

		do
			ret = waitpid(c[i].pid, &status, 0);
		while (ret < 0 && errno == EINTR);
		if (ret < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "child %d ended with status 0x%x\n",
				c[i].pid, status);
			failed++;
		}
		if (c[i].wrong) {
			fprintf(stderr, "child %d: %lu of %lu getpid() calls wrong, last %ld\n",
				c[i].pid, c[i].wrong, c[i].calls,
				c[i].last_wrong);
			wrong += c[i].wrong;
		}
		if (!c[i].calls) {
			fprintf(stderr, "child %d made no calls\n", c[i].pid);
			idle++;
		}
	}
	calls = total_calls(c, n);
	printf("done tasks %d calls %lu wrong %lu idle %d\n", n, calls, wrong,
	       idle);
	return wrong || idle || failed ? 1 : 0;
}
