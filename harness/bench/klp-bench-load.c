// SPDX-License-Identifier: GPL-2.0
/*
 * klp-bench-load - user tasks for the transition cases of make bench.
 *
 *   klp-bench-load sleep N        N processes asleep in nanosleep()
 *   klp-bench-load busy N         N processes spinning in user space
 *   klp-bench-load pread N FILE   N processes looping pread() on FILE
 *
 * Prints "ready N" once all N processes are forked, then waits for SIGTERM
 * or SIGINT, kills and reaps them and exits.  The processes die with their
 * parent.  Built static by harness/bench/bench.sh, so that forks are cheap.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void usage(void)
{
	fputs("Usage: klp-bench-load sleep N | busy N | pread N FILE\n",
	      stderr);
	exit(2);
}

static void do_sleep(void)
{
	struct timespec ts = { .tv_sec = 100000 };

	for (;;)
		nanosleep(&ts, NULL);
}

static void do_busy(void)
{
	unsigned long n = 0;

	for (;;) {
		n++;
		asm volatile("" : "+r" (n));
	}
}

static void do_pread(const char *file)
{
	char buf[16];
	int fd;

	fd = open(file, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "klp-bench-load: %s: %s\n", file,
			strerror(errno));
		_exit(1);
	}
	for (;;) {
		if (pread(fd, buf, sizeof(buf), 0) < 0) {
			fprintf(stderr, "klp-bench-load: pread %s: %s\n",
				file, strerror(errno));
			_exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	const char *mode, *file = NULL;
	sigset_t set;
	pid_t *pids;
	long i, n;
	int sig;

	if (argc < 3)
		usage();
	mode = argv[1];
	n = strtol(argv[2], NULL, 10);
	if (n <= 0 || n > 1000000)
		usage();
	if (!strcmp(mode, "pread")) {
		if (argc != 4)
			usage();
		file = argv[3];
	} else if ((strcmp(mode, "sleep") && strcmp(mode, "busy")) ||
		   argc != 3) {
		usage();
	}

	pids = calloc(n, sizeof(*pids));
	if (!pids) {
		perror("klp-bench-load: calloc");
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);

	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			fprintf(stderr, "klp-bench-load: fork %ld of %ld: %s\n",
				i + 1, n, strerror(errno));
			break;
		}
		if (pids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() == 1)
				_exit(0);
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			if (!strcmp(mode, "sleep"))
				do_sleep();
			else if (!strcmp(mode, "busy"))
				do_busy();
			else
				do_pread(file);
			_exit(0);
		}
	}
	printf("ready %ld\n", i);
	fflush(stdout);

	sigwait(&set, &sig);
	n = i;
	for (i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	free(pids);
	return 0;
}
