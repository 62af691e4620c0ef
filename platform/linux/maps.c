/*
 * /proc/PID/maps parser. One line per VMA; adjacent compatible mappings of
 * the same file may have been merged by the kernel, which callers comparing
 * against their own list must allow for.
 */
#include "platform/linux/maps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static int maps_parse_line(const char *line, struct maps_entry *e)
{
	unsigned long long start, end, offset, inode;
	unsigned int major, minor;
	char perms[8];
	int pos = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &offset, &major,
		   &minor, &inode, &pos) < 7 ||
	    strlen(perms) < 4)
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	e->start = start;
	e->end = end;
	e->offset = offset;
	e->inode = inode;
	e->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		  (perms[2] == 'x' ? PROT_EXEC : 0);
	e->shared = perms[3] == 's';
	snprintf(e->path, sizeof(e->path), "%s", line + pos);
	e->path[strcspn(e->path, "\n")] = '\0';
	return 0;
}

int maps_read(pid_t pid, struct maps_entry **out, size_t *count)
{
	struct maps_entry *v = NULL;
	size_t n = 0, cap = 0;
	char path[64], line[512];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct maps_entry *nv = realloc(v, ncap * sizeof(*v));
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		rc = maps_parse_line(line, &v[n]);
		if (rc < 0)
			break;
		n++;
		/* A path longer than our buffer: skip the rest of the line. */
		while (!strchr(line, '\n') && fgets(line, sizeof(line), f))
			;
	}
	fclose(f);
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	*count = n;
	return 0;
}
