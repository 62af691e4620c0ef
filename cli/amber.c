/*
 * amber: run a scenario, list its components, checkpoint, restore and
 * inspect them (docs/amber-command.md).
 */
#include <stdio.h>

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "usage: amber run|ps|checkpoint|restore|inspect ...\n");
	return 1;
}
