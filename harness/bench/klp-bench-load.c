// SPDX-License-Identifier: GPL-2.0
/*
 * klp-bench-load - user tasks for the transition cases of make bench.
 *
 *   klp-bench-load sleep N        N processes asleep in nanosleep()
 *   klp-bench-load busy N         N processes spinning in user space
 *   klp-bench-load pread N FILE   N processes looping pread() on FILE
 *   klp-bench-load block N FILE   N processes reading FILE once (where they
 *                                 wait in the kernel until released), then
 *                                 asleep in nanosleep()
 *
 * Prints "ready N" once all N processes are forked, then waits for SIGTERM
 * or SIGINT, kills and reaps them and exits.  The processes die with their
 * parent.  Built static by harness/bench/bench.sh, so that forks are cheap.
 *
 *   klp-bench-load lat CPU...     the workload of the disturbance case
 *
 * One thread per CPU named, pinned there, SCHED_FIFO (priority 50) when it
 * may, wakes up every millisecond on an absolute CLOCK_MONOTONIC timer and
 * records how late it woke (the time it got back to user space minus the
 * time it asked for).  Samples count in windows that the caller opens and
 * closes with signals: SIGUSR1 opens window "idle", SIGUSR2 window "trans",
 * SIGWINCH marks a moment in the open window (the caller's phases), and
 * SIGHUP closes the open one and prints for each thread
 *   "lat <window> <cpu> <samples> <max us> <p99 us> <mean us> <missed>"
 * (missed: periods that passed entirely while the thread was late), and
 *   "when <window> <cpu> <max us> <ms>"
 * (when the worst wake-up happened, in ms after the window opened), then
 * "marks <window> <ms>..." (when each SIGWINCH came, at most LAT_MAX_MARKS,
 * in ms after the window opened: the caller's phases) and "done <window>";
 * SIGTERM or SIGINT ends the program.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void usage(void)
{
	fputs("Usage: klp-bench-load sleep N | busy N | pread N FILE | block N FILE\n"
	      "       klp-bench-load lat CPU...\n", stderr);
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

/* Open @file for reading, or end the process. */
static int open_or_exit(const char *file)
{
	int fd = open(file, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "klp-bench-load: %s: %s\n", file,
			strerror(errno));
		_exit(1);
	}
	return fd;
}

static void do_pread(const char *file)
{
	char buf[16];
	int fd = open_or_exit(file);

	for (;;) {
		if (pread(fd, buf, sizeof(buf), 0) < 0) {
			fprintf(stderr, "klp-bench-load: pread %s: %s\n",
				file, strerror(errno));
			_exit(1);
		}
	}
}

static void do_block(const char *file)
{
	char buf[16];
	int fd = open_or_exit(file);

	if (read(fd, buf, sizeof(buf)) < 0) {
		fprintf(stderr, "klp-bench-load: read %s: %s\n", file,
			strerror(errno));
		_exit(1);
	}
	close(fd);
	do_sleep();
}

/* --- lat: the timer-driven workload ------------------------------------- */

#define LAT_PERIOD_NS	1000000L
#define LAT_MAX_SAMPLES	(1 << 20)	/* ~17 minutes of 1 ms periods */
#define LAT_MAX_THREADS	8
#define LAT_MAX_MARKS	8

struct lat_thread {
	pthread_t thread;
	int cpu;
	pthread_mutex_t lock;	/* guards the window and the samples */
	int window;		/* 0: none open, else the open window */
	long n, missed;
	uint32_t *us;		/* lateness of each sample, microseconds */
	uint32_t worst_us;	/* the worst sample of the window ... */
	int64_t worst_ns;	/* ... and when it woke (CLOCK_MONOTONIC) */
};

static struct lat_thread lat_threads[LAT_MAX_THREADS];
static int lat_nr;
/* When the open window opened, and the marks in it (main thread only). */
static int64_t lat_open_ns;
static int64_t lat_marks[LAT_MAX_MARKS];
static int lat_nr_marks;

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static int64_t lat_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_ns(&ts);
}

static void *lat_fn(void *arg)
{
	struct lat_thread *t = arg;
	struct sched_param sp = { .sched_priority = 50 };
	struct timespec next, now;
	cpu_set_t set;
	int64_t late;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "klp-bench-load: CPU %d: %s\n", t->cpu,
			strerror(errno));
		exit(1);
	}
	/* An ordinary task if FIFO is not allowed: the same for both kernels. */
	sched_setscheduler(0, SCHED_FIFO, &sp);

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		next.tv_nsec += LAT_PERIOD_NS;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
				       NULL) == EINTR)
			;
		clock_gettime(CLOCK_MONOTONIC, &now);
		late = ts_ns(&now) - ts_ns(&next);
		pthread_mutex_lock(&t->lock);
		if (t->window && t->n < LAT_MAX_SAMPLES) {
			t->us[t->n] = late < 0 ? 0 : (uint32_t)(late / 1000);
			if (!t->n || t->us[t->n] > t->worst_us) {
				t->worst_us = t->us[t->n];
				t->worst_ns = ts_ns(&now);
			}
			t->n++;
		}
		/* Periods that passed while late are skipped, and counted. */
		while (ts_ns(&now) - ts_ns(&next) >= LAT_PERIOD_NS) {
			next.tv_nsec += LAT_PERIOD_NS;
			if (next.tv_nsec >= 1000000000) {
				next.tv_nsec -= 1000000000;
				next.tv_sec++;
			}
			if (t->window)
				t->missed++;
		}
		pthread_mutex_unlock(&t->lock);
	}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static const char *lat_window_name(int w)
{
	return w == 1 ? "idle" : "trans";
}

/* Close the open window of every thread and print its figures. */
static void lat_report(void)
{
	int i, w = 0;

	for (i = 0; i < lat_nr; i++) {
		struct lat_thread *t = &lat_threads[i];
		double sum = 0;
		long k, n, missed;

		pthread_mutex_lock(&t->lock);
		w = t->window ? t->window : w;
		t->window = 0;
		n = t->n;
		missed = t->missed;
		pthread_mutex_unlock(&t->lock);
		if (!w)
			continue;
		/* No thread writes samples while no window is open. */
		qsort(t->us, n, sizeof(*t->us), cmp_u32);
		for (k = 0; k < n; k++)
			sum += t->us[k];
		printf("lat %s %d %ld %u %u %.1f %ld\n", lat_window_name(w),
		       t->cpu, n, n ? t->us[n - 1] : 0,
		       n ? t->us[(n * 99 + 99) / 100 - 1] : 0,
		       n ? sum / n : 0.0, missed);
		if (n)
			printf("when %s %d %u %.1f\n", lat_window_name(w),
			       t->cpu, t->worst_us,
			       (t->worst_ns - lat_open_ns) / 1e6);
	}
	if (w) {
		printf("marks %s", lat_window_name(w));
		for (i = 0; i < lat_nr_marks; i++)
			printf(" %.1f", (lat_marks[i] - lat_open_ns) / 1e6);
		printf("\ndone %s\n", lat_window_name(w));
	}
	fflush(stdout);
}

static int lat_main(int argc, char **argv)
{
	sigset_t set;
	int i, sig;

	if (argc < 3 || argc - 2 > LAT_MAX_THREADS)
		usage();
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	/* The threads inherit the mask: only sigwait() below takes signals. */
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (i = 2; i < argc; i++) {
		struct lat_thread *t = &lat_threads[lat_nr];

		t->cpu = atoi(argv[i]);
		t->us = calloc(LAT_MAX_SAMPLES, sizeof(*t->us));
		if (!t->us) {
			perror("klp-bench-load: calloc");
			return 1;
		}
		pthread_mutex_init(&t->lock, NULL);
		lat_nr++;
		if (pthread_create(&t->thread, NULL, lat_fn, t)) {
			perror("klp-bench-load: pthread_create");
			return 1;
		}
	}
	printf("ready %d\n", lat_nr);
	fflush(stdout);
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			return 0;
		if (sig == SIGHUP) {
			lat_report();
			continue;
		}
		if (sig == SIGWINCH) {
			if (lat_nr_marks < LAT_MAX_MARKS)
				lat_marks[lat_nr_marks++] = lat_now_ns();
			continue;
		}
		lat_open_ns = lat_now_ns();
		lat_nr_marks = 0;
		for (i = 0; i < lat_nr; i++) {
			struct lat_thread *t = &lat_threads[i];

			pthread_mutex_lock(&t->lock);
			t->n = 0;
			t->missed = 0;
			t->worst_us = 0;
			t->window = sig == SIGUSR1 ? 1 : 2;
			pthread_mutex_unlock(&t->lock);
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
	if (!strcmp(mode, "lat"))
		return lat_main(argc, argv);
	n = strtol(argv[2], NULL, 10);
	if (n <= 0 || n > 1000000)
		usage();
	if (!strcmp(mode, "pread") || !strcmp(mode, "block")) {
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
			else if (!strcmp(mode, "block"))
				do_block(file);
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
