/*
 * amber: run a scenario, list its components, checkpoint, restore and
 * inspect them (docs/amber-command.md).
 */
#include <stdio.h>
#include <string.h>

#include "cli/image_cmd.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "inspect"))
		return cli_inspect(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "diff"))
		return cli_diff(argc - 1, argv + 1);
	fprintf(stderr, "usage: amber run|ps|checkpoint|restore|inspect|diff ...\n");
	return 1;
}
