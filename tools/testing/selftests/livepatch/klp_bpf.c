// SPDX-License-Identifier: GPL-2.0
/*
 * Helper of test-bpf.sh: attaches the BPF programs of an object file
 * (klp_bpf_count.bpf.o) and reads what they counted.
 *
 *   klp_bpf attach OBJ DIR   load OBJ, attach each of its programs and pin
 *                            the links in DIR (a directory on bpffs) under
 *                            the programs' names, and its map klp_counts as
 *                            DIR/klp_counts; the programs stay attached
 *                            after klp_bpf exits, until the pins are removed
 *   klp_bpf show DIR         print "entries=N exits=N ret=N" from
 *                            DIR/klp_counts
 *
 * Exit status 0, or 1 with the reason on stderr (libbpf's messages and the
 * errno of the step that failed).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "klp_bpf.h"

#define KLP_BPF_MAP "klp_counts"

static int fail(const char *what, const char *name, int err)
{
	if (err < 0)
		err = -err;
	fprintf(stderr, "klp_bpf: %s %s: %s (errno %d)\n", what, name,
		strerror(err), err);
	return 1;
}

static int pin_path(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

	return n > 0 && n < PATH_MAX ? 0 : -ENAMETOOLONG;
}

/* Attach @prog and pin its link under its own name in @dir. */
static int attach_one(struct bpf_program *prog, const char *dir)
{
	const char *name = bpf_program__name(prog);
	char path[PATH_MAX];
	struct bpf_link *link;
	int err;

	link = bpf_program__attach(prog);
	if (!link)
		return fail("attaching", name, errno);
	err = pin_path(path, dir, name);
	if (!err)
		err = bpf_link__pin(link, path);
	if (err) {
		bpf_link__destroy(link);
		return fail("pinning the link of", name, err);
	}
	/* The pin keeps the program attached once this process is gone. */
	bpf_link__disconnect(link);
	bpf_link__destroy(link);
	printf("attached %s\n", name);
	return 0;
}

static int attach_all(const char *file, const char *dir)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_map *map;
	char path[PATH_MAX];
	int err, ret = 1;

	obj = bpf_object__open_file(file, NULL);
	if (!obj)
		return fail("opening", file, errno);
	err = bpf_object__load(obj);
	if (err) {
		fail("loading", file, err);
		goto out;
	}
	map = bpf_object__find_map_by_name(obj, KLP_BPF_MAP);
	if (!map) {
		fail("finding map", KLP_BPF_MAP, ENOENT);
		goto out;
	}
	err = pin_path(path, dir, KLP_BPF_MAP);
	if (!err)
		err = bpf_map__pin(map, path);
	if (err) {
		fail("pinning map", KLP_BPF_MAP, err);
		goto out;
	}
	bpf_object__for_each_program(prog, obj) {
		if (attach_one(prog, dir))
			goto out;
	}
	ret = 0;
out:
	bpf_object__close(obj);
	return ret;
}

static int show(const char *dir)
{
	__u64 val[KLP_BPF_NR];
	char path[PATH_MAX];
	__u32 i;
	int fd, err;

	err = pin_path(path, dir, KLP_BPF_MAP);
	if (err)
		return fail("opening", dir, err);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return fail("opening", path, errno);
	for (i = 0; i < KLP_BPF_NR; i++) {
		if (bpf_map_lookup_elem(fd, &i, &val[i])) {
			err = errno;
			close(fd);
			return fail("reading", path, err);
		}
	}
	close(fd);
	printf("entries=%llu exits=%llu ret=%lld\n",
	       (unsigned long long)val[KLP_BPF_ENTRIES],
	       (unsigned long long)val[KLP_BPF_EXITS],
	       (long long)val[KLP_BPF_RET]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "attach"))
		return attach_all(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "show"))
		return show(argv[2]);
	fprintf(stderr, "usage: klp_bpf attach OBJ DIR | klp_bpf show DIR\n");
	return 2;
}
