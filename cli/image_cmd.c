/*
 * amber inspect [--json] DIR
 * amber diff [--timing[=US]] [--allocators] DIR_A DIR_B
 *
 * inspect prints an image (image/inspect.c); its exit status is 0, or 1
 * if the image cannot be read or is damaged. diff exits like diff(1):
 * 0 when the images agree, 1 when they differ, 2 on trouble.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/image_cmd.h"
#include "image/inspect.h"

int cli_inspect(int argc, char **argv)
{
	bool json = false;
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] == '-' || dir) {
			dir = NULL;
			break;
		} else
			dir = argv[i];
	}
	if (!dir) {
		fprintf(stderr, "usage: amber inspect [--json] DIR\n");
		return 2;
	}
	char err[1024];
	if (image_inspect(dir, json, stdout, err, sizeof(err)) < 0) {
		fprintf(stderr, "amber inspect: %s\n", err);
		return 1;
	}
	return 0;
}

int cli_diff(int argc, char **argv)
{
	struct image_diff_options o = { 0 };
	const char *dir[2] = { NULL, NULL };
	int ndirs = 0;
	bool usage = false;
	for (int i = 1; i < argc && !usage; i++) {
		char *end;
		if (!strcmp(argv[i], "--timing"))
			o.timing = true;
		else if (!strncmp(argv[i], "--timing=", 9)) {
			o.timing = true;
			o.tolerance_us = strtoull(argv[i] + 9, &end, 10);
			usage = !argv[i][9] || *end;
		} else if (!strcmp(argv[i], "--allocators"))
			o.allocators = true;
		else if (argv[i][0] == '-' || ndirs == 2)
			usage = true;
		else
			dir[ndirs++] = argv[i];
	}
	if (usage || ndirs != 2) {
		fprintf(stderr, "usage: amber diff [--timing[=TOLERANCE_US]] [--allocators] DIR_A DIR_B\n");
		return 2;
	}
	char err[1024];
	int n = image_diff_opts(dir[0], dir[1], &o, stdout, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "amber diff: %s\n", err);
		return 2;
	}
	return n ? 1 : 0;
}
