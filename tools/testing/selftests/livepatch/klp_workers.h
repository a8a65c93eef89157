/* SPDX-License-Identifier: GPL-2.0 */
/*
 * klp_workers.h - what the selftests' load generators (getpid_loop,
 * klp_stress_worker) share: N child processes that loop until told to
 * stop and count what they saw in memory shared with the parent; the
 * parent answers SIGUSR1 with a report and stops the children on SIGTERM
 * or SIGINT.
 *
 * A program includes this file once, keeps its per-child counters in an
 * array from workers_map() and then calls workers_start(),
 * workers_wait() and workers_stop().
 */
#ifndef KLP_WORKERS_H
#define KLP_WORKERS_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Counters shared between processes are read and written with these. */
#define READ(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* Set by the signal handler; the children inherit "stop" only as 0. */
static sig_atomic_t stop, report;
/* The parent's signal mask before workers_start() blocked the signals. */
static sigset_t workers_old_mask;

static void workers_on_signal(int sig)
{
	if (sig == SIGUSR1)
		WRITE(report, 1);
	else
		WRITE(stop, 1);
}

/* workers_map() - SIZE zeroed bytes shared with the children, or NULL. */
static void *workers_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		return NULL;
	}
	memset(p, 0, size);
	return p;
}

/*
 * workers_start() - fork N children, each running loop(i) at nice 19 (it
 * must not return), record their pids in PIDS and print "ready N".
 * SIGTERM, SIGINT and SIGUSR1 reach the parent only in workers_wait().
 * Returns 0, or 2 (after killing the children forked so far) when a fork
 * fails.
 */
static int workers_start(int n, pid_t *pids, void (*loop)(int i))
{
	struct sigaction sa;
	sigset_t mask;
	int i, j;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = workers_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, &workers_old_mask);

	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			for (j = 0; j < i; j++)
				kill(pids[j], SIGKILL);
			return 2;
		}
		if (pid == 0) {
			sigprocmask(SIG_SETMASK, &workers_old_mask, NULL);
			if (setpriority(PRIO_PROCESS, 0, 19))
				perror("setpriority");
			loop(i);
		}
		pids[i] = pid;
	}
	printf("ready %d\n", n);
	fflush(stdout);
	return 0;
}

/* workers_wait() - sleep until SIGTERM/SIGINT; call report_fn on SIGUSR1. */
static inline void workers_wait(void (*report_fn)(void))
{
	while (!READ(stop)) {
		sigsuspend(&workers_old_mask);
		if (READ(report)) {
			WRITE(report, 0);
			report_fn();
			fflush(stdout);
		}
	}
}

/*
 * workers_stop() - send SIGTERM to the N children and reap them.  Returns
 * how many did not exit with status 0 (each is named on stderr).
 */
static int workers_stop(int n, const pid_t *pids)
{
	int i, died = 0;

	for (i = 0; i < n; i++)
		kill(pids[i], SIGTERM);
	for (i = 0; i < n; i++) {
		int status = 0;
		pid_t ret;

		do
			ret = waitpid(pids[i], &status, 0);
		while (ret < 0 && errno == EINTR);
		if (ret < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "child %d ended with status 0x%x\n",
				pids[i], status);
			died++;
		}
	}
	return died;
}

#endif /* KLP_WORKERS_H */
