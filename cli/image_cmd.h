/*
 * The image half of the amber command: inspect and diff, which read
 * image directories and need no running amber-core.
 */
#ifndef AMBER_CLI_IMAGE_CMD_H
#define AMBER_CLI_IMAGE_CMD_H

/* argv[0] is the subcommand's name. Exit status for main. */
int cli_inspect(int argc, char **argv);
int cli_diff(int argc, char **argv);

#endif
