/*
 * amber: run a system, list its components, checkpoint, restore and
 * inspect them (docs/amber-command.md).
 *
 * `amber run` becomes the amber-core next to this binary (exec), so that
 * the system runs in the foreground with amber-core's output and exit
 * status; every other command is one request to a running amber-core
 * over its control socket (client.c), or reads image files directly
 * (image/inspect.h). A system is addressed by its name, -s NAME, which
 * `amber run` hands to amber-core as --control NAME.
 */
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/control.h"
#include "cli/image_cmd.h"
#include "image/image.h"
#include "image/inspect.h"

static const char usage_text[] =
	"usage: amber [-s NAME] COMMAND [ARGS]\n"
	"\n"
	"  run [--timeout S] [--strict] [--components DIR[:DIR...]] SCENARIO.xml\n"
	"                         run a system in the foreground (amber-core)\n"
	"  run [--timeout S] [--strict] [--components DIR[:DIR...]] --restore DIR [--key FILE] [--lazy]\n"
	"                         run the system saved in the image DIR\n"
	"  ps                     list the components of the running system\n"
	"  stats                  core's and the components' memory, fds, threads, objects, caps\n"
	"  checkpoint [--kill] [--rollback] [--hold-output] [--parent PDIR] [--key FILE] NAME DIR\n"
	"                         save component NAME and its descendants into DIR\n"
	"  checkpoint --every PERIOD [--chain N] [--count K] [--hold-output] [--key FILE] NAME DIR\n"
	"                         checkpoint NAME every PERIOD (10ms, 1s) into DIR/ckpt-N,\n"
	"                         chains of N images (default 10): a full one, then incremental\n"
	"  release NAME           stop holding NAME's output (--hold-output): print what it holds\n"
	"  restore [--partial] [--lazy] [--key FILE] DIR\n"
	"                         put the components saved in DIR back in place\n"
	"  inspect [--json] [--key FILE] DIR\n"
	"                         describe the image in DIR\n"
	"  merge DIR OUT          write the incremental image DIR and its parents as one full image\n"
	"  inspect --diff DIR DIR2\n"
	"                         compare two images\n"
	"  inspect --diff DIR NAME\n"
	"                         compare an image with component NAME as it is now\n"
	"\n"
	"  --hold-output  from this checkpoint on, NAME's LOG lines are printed only once a later\n"
	"               checkpoint has committed, so that a rollback neither repeats nor loses one\n"
	"  -s NAME      the system to address (default: " CONTROL_NAME_DEFAULT "); `amber -s NAME run` names it\n"
	"  --key FILE   sign the image (checkpoint) or accept only an image signed with\n"
	"               this key (restore, run --restore, inspect); FILE: 32+ bytes, mode 0600\n"
	"  -h, --help   show this text\n"
	"\n"
	"Exit status: 0 done, 1 failed (amber-core's answer was ERR, or no system runs), 2 usage error;\n"
	"run: amber-core's status; inspect --diff: 0 same, 1 different, 2 trouble.\n"
	"See docs/amber-command.md.\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "amber: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry 'amber --help'.\n");
	va_end(ap);
	return CLI_EXIT_USAGE;
}

/* ---- run ----------------------------------------------------------------- */

static int cmd_run(const char *name, int argc, char **argv)
{
	/* Checked here so that mistakes are amber's usage errors (2), not
	 * amber-core's (1, which means a start failed). */
	const char *target = NULL;
	bool restore = false, key = false, lazy = false;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--lazy") == 0) {
			lazy = true;
		} else if (strcmp(argv[i], "--key") == 0) {
			if (i + 1 >= argc)
				return usage_error("run: %s needs a key file", argv[i]);
			key = true;
			i++;
		} else if (strcmp(argv[i], "--timeout") == 0 || strcmp(argv[i], "--components") == 0) {
			if (i + 1 >= argc)
				return usage_error("run: %s needs a value", argv[i]);
			if (strcmp(argv[i], "--timeout") == 0) {
				char *end;
				long s = strtol(argv[i + 1], &end, 10);
				if (*end || !*argv[i + 1] || s < 0)
					return usage_error("run: --timeout takes whole seconds, not '%s'", argv[i + 1]);
			}
			i++;
		} else if (strcmp(argv[i], "--strict") == 0) {
			continue; /* amber-core's: a component's non-zero exit fails the run */
		} else if (strcmp(argv[i], "--restore") == 0) {
			if (i + 1 >= argc)
				return usage_error("run: %s needs a directory", argv[i]);
			if (target)
				return usage_error("run: a scenario or --restore DIR, only one: '%s'", argv[i + 1]);
			target = argv[++i];
			restore = true;
		} else if (argv[i][0] == '-') {
			return usage_error("run: unknown option '%s'", argv[i]);
		} else if (target) {
			return usage_error("run: one scenario or --restore DIR, not also '%s'", argv[i]);
		} else {
			target = argv[i];
		}
	}
	if (!target)
		return usage_error("run: %s", "which scenario? (run SCENARIO.xml or run --restore DIR)");
	if (key && !restore)
		return usage_error("run: %s", "--key goes with --restore DIR (a scenario is not signed)");
	if (lazy && !restore)
		return usage_error("run: %s", "--lazy goes with --restore DIR");

	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "amber: cannot find its own binary: %s\n", strerror(errno));
		return CLI_EXIT_FAIL;
	}
	exe[n] = '\0';
	char core[PATH_MAX + 16];
	snprintf(core, sizeof(core), "%s/amber-core", dirname(exe));

	char **args = calloc((size_t)argc + 4, sizeof(*args));
	if (!args) {
		fprintf(stderr, "amber: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	size_t k = 0;
	args[k++] = core;
	args[k++] = "--control";
	args[k++] = (char *)name;
	for (int i = 0; i < argc; i++)
		args[k++] = argv[i];
	args[k] = NULL;
	execv(core, args);
	fprintf(stderr, "amber: cannot run %s: %s\n", core, strerror(errno));
	free(args);
	return CLI_EXIT_FAIL;
}

/* ---- checkpoint, restore --------------------------------------------------- */

/* "--key=/absolute/path" for a request: amber-core reads the key file
 * itself (it is the one that signs and verifies) and has a working
 * directory of its own. The key never passes through the socket. */
static int key_field(const char *file, char *out, size_t outlen)
{
	char abs[PATH_MAX];
	if (!realpath(file, abs)) {
		fprintf(stderr, "amber: key file %s: %s\n", file, strerror(errno));
		return -1;
	}
	int w = snprintf(out, outlen, "--key=%s", abs);
	if (w < 0 || (size_t)w >= outlen) {
		fprintf(stderr, "amber: key file %s: path too long\n", file);
		return -1;
	}
	return 0;
}

static int cmd_checkpoint(const char *name, int argc, char **argv)
{
	bool kill = false, rollback = false, hold = false;
	char parent[PATH_MAX + 16] = "";
	long long every = 0;
	unsigned long chain = 10, count = 0;
	const char *key = NULL;
	int i = 0;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		char *end;
		if (strcmp(argv[i], "--key") == 0) {
			if (i + 1 >= argc)
				return usage_error("checkpoint: %s", "--key needs a key file");
			key = argv[++i];
		} else if (strcmp(argv[i], "--every") == 0 && i + 1 < argc) {
			if (cli_parse_period(argv[++i], &every) < 0)
				return usage_error("checkpoint: --every '%s': a period from 100us to 1 day (10ms, 1s, 500us)",
						   argv[i]);
		} else if ((strcmp(argv[i], "--chain") == 0 || strcmp(argv[i], "--count") == 0) && i + 1 < argc) {
			bool is_chain = argv[i][3] == 'h';
			unsigned long v = strtoul(argv[++i], &end, 10);
			if (*end || end == argv[i] || v == 0 || v > 1000000)
				return usage_error("checkpoint: %s '%s': a number from 1 to 1000000",
						   is_chain ? "--chain" : "--count", argv[i]);
			*(is_chain ? &chain : &count) = v;
		} else if (strcmp(argv[i], "--parent") == 0 && i + 1 < argc) {
			char abs[PATH_MAX];
			if (cli_absolute_dir(argv[++i], abs, sizeof(abs)) < 0)
				return CLI_EXIT_FAIL;
			snprintf(parent, sizeof(parent), "--parent=%s", abs);
		} else if (strcmp(argv[i], "--kill") == 0)
			kill = true;
		else if (strcmp(argv[i], "--rollback") == 0)
			rollback = true;
		else if (strcmp(argv[i], "--hold-output") == 0)
			hold = true;
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else
			return usage_error("checkpoint: unknown option '%s'", argv[i]);
	}
	if (argc - i != 2)
		return usage_error("checkpoint: %s",
				   "wants NAME and DIR (checkpoint [--kill] [--rollback] [--parent PDIR] [--key FILE] NAME DIR)");
	char dir[PATH_MAX], keyf[PATH_MAX + 8];
	if (cli_absolute_dir(argv[i + 1], dir, sizeof(dir)) < 0 || (key && key_field(key, keyf, sizeof(keyf)) < 0))
		return CLI_EXIT_FAIL;
	if (every) {
		if (kill || rollback || parent[0])
			return usage_error("checkpoint: %s", "--every goes with none of --kill, --rollback and --parent");
		if (strchr(dir, '\''))
			return usage_error("checkpoint: --every: DIR '%s' has a quote in it", dir);
		return cli_periodic(name, argv[i], dir, every, (unsigned)chain, count, key ? keyf : NULL, hold);
	}
	const char *req[8] = { "checkpoint", argv[i], dir };
	size_t n = 3;
	if (hold)
		req[n++] = "--hold-output";
	if (kill)
		req[n++] = "--kill";
	if (rollback)
		req[n++] = "--rollback";
	if (parent[0])
		req[n++] = parent;
	if (key)
		req[n++] = keyf;
	return cli_simple_request(name, req, n);
}

static int cmd_restore(const char *name, int argc, char **argv)
{
	bool partial = false, lazy = false;
	const char *key = NULL;
	int i = 0;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "--key") == 0) {
			if (i + 1 >= argc)
				return usage_error("restore: %s", "--key needs a key file");
			key = argv[++i];
		} else if (strcmp(argv[i], "--partial") == 0)
			partial = true;
		else if (strcmp(argv[i], "--lazy") == 0)
			lazy = true;
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else
			return usage_error("restore: unknown option '%s'", argv[i]);
	}
	if (argc - i != 1)
		return usage_error("restore: %s", "wants one DIR (restore [--partial] [--lazy] [--key FILE] DIR)");
	char dir[PATH_MAX], keyf[PATH_MAX + 8];
	if (cli_absolute_dir(argv[i], dir, sizeof(dir)) < 0 || (key && key_field(key, keyf, sizeof(keyf)) < 0))
		return CLI_EXIT_FAIL;
	const char *req[5] = { "restore", dir };
	size_t n = 2;
	if (partial)
		req[n++] = "--partial";
	if (lazy)
		req[n++] = "--lazy";
	if (key)
		req[n++] = keyf;
	return cli_simple_request(name, req, n);
}

/* ---- inspect ----------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* inspect --diff DIR NAME: NAME as it is now, through a checkpoint into a
 * directory of our own that is gone afterwards. */
static int diff_live(const char *name, const char *image, const char *component)
{
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/amber-diff-XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "amber: cannot create a directory for the checkpoint (%s): %s\n", dir, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	int status;
	const char *req[] = { "checkpoint", component, dir };
	struct cli_answer a;
	if (cli_request(name, req, 3, 0, &a) < 0) {
		fprintf(stderr, "amber: (%s is not a directory, so it was taken for a component of system '%s')\n",
			component, name);
		status = CLI_EXIT_USAGE;
	} else if (!a.ok) {
		fprintf(stderr, "amber: %s\n", a.message);
		status = CLI_EXIT_USAGE;
	} else {
		char err[512] = "";
		int d = image_diff(image, dir, stdout, err, sizeof(err));
		if (d < 0) {
			fprintf(stderr, "amber: %s\n", err);
			status = CLI_EXIT_USAGE;
		} else {
			status = d ? 1 : 0;
		}
	}
	cli_answer_free(&a);
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return status;
}

/* inspect --key: the image is described only if its signature holds;
 * "signature: good" comes first (on stderr with --json), so a script can tell. */
static int verify_image(const char *dir, const char *keyfile, bool json)
{
	struct image_key key;
	char err[512] = "";
	int rc = image_key_load(keyfile, &key, err, sizeof(err));
	if (rc == 0)
		rc = image_verify_chain(dir, &key, err, sizeof(err));
	image_key_clear(&key);
	if (rc < 0) {
		fprintf(stderr, "amber: %s\n", err);
		return -1;
	}
	fprintf(json ? stderr : stdout, "signature: good (keyed BLAKE2b-256 over image.pb and pages.bin)\n");
	return 0;
}

static int cmd_inspect(const char *name, int argc, char **argv)
{
	bool json = false, diff = false;
	const char *key = NULL;
	int i = 0;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "--key") == 0) {
			if (i + 1 >= argc)
				return usage_error("inspect: %s", "--key needs a key file");
			key = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--diff") == 0)
			diff = true;
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else
			return usage_error("inspect: unknown option '%s'", argv[i]);
	}
	char err[512] = "";
	if (!diff) {
		if (argc - i != 1)
			return usage_error("inspect: %s", "wants one DIR (inspect [--json] [--key FILE] DIR)");
		if (key && verify_image(argv[i], key, json) < 0)
			return CLI_EXIT_FAIL;
		if (image_inspect(argv[i], json, stdout, err, sizeof(err)) < 0) {
			fflush(stdout);
			fprintf(stderr, "amber: %s\n", err);
			return CLI_EXIT_FAIL;
		}
		return CLI_EXIT_OK;
	}
	if (json)
		return usage_error("inspect: %s", "--json and --diff do not go together");
	if (key)
		return usage_error("inspect: %s", "--key and --diff do not go together");
	if (argc - i != 2)
		return usage_error("inspect: %s", "--diff wants DIR and DIR2 or NAME (inspect --diff DIR DIR2|NAME)");
	struct stat st;
	if (stat(argv[i + 1], &st) < 0 || !S_ISDIR(st.st_mode))
		return diff_live(name, argv[i], argv[i + 1]);
	int d = image_diff(argv[i], argv[i + 1], stdout, err, sizeof(err));
	if (d < 0) {
		fflush(stdout);
		fprintf(stderr, "amber: %s\n", err);
		return CLI_EXIT_USAGE; /* diff(1)'s "trouble" */
	}
	return d ? 1 : 0;
}

/* merge DIR OUT: no system involved, the images only. */
static int cmd_merge(int argc, char **argv)
{
	char err[512] = "";
	if (argc != 2)
		return usage_error("merge: %s", "wants DIR and OUT (merge DIR OUT)");
	if (image_merge(argv[0], argv[1], err, sizeof(err)) < 0) {
		fprintf(stderr, "amber: merge: %s\n", err);
		return CLI_EXIT_FAIL;
	}
	printf("merged %s into %s\n", argv[0], argv[1]);
	return CLI_EXIT_OK;
}

/* ---- main ---------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	const char *name = CONTROL_NAME_DEFAULT;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		} else if (strcmp(argv[i], "-s") == 0) {
			if (i + 1 >= argc)
				return usage_error("%s needs a system name", argv[i]);
			name = argv[++i];
		} else if (strncmp(argv[i], "-s", 2) == 0) {
			name = argv[i] + 2;
		} else {
			return usage_error("unknown option '%s'", argv[i]);
		}
	}
	if (i >= argc) {
		fputs(usage_text, stderr);
		return CLI_EXIT_USAGE;
	}
	if (!control_name_valid(name)) {
		char err[256];
		control_socket_path(name, NULL, 0, err, sizeof(err));
		fprintf(stderr, "amber: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	const char *cmd = argv[i];
	int rest = argc - i - 1;
	char **args = argv + i + 1;
	if (strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(name, rest, args);
	if (strcmp(cmd, "ps") == 0) {
		if (rest)
			return usage_error("ps: takes no arguments, not '%s'", args[0]);
		return cli_ps(name);
	}
	if (strcmp(cmd, "stats") == 0) {
		if (rest)
			return usage_error("stats: takes no arguments, not '%s'", args[0]);
		const char *req[] = { "stats" };
		return cli_simple_request(name, req, 1);
	}
	if (strcmp(cmd, "checkpoint") == 0)
		return cmd_checkpoint(name, rest, args);
	if (strcmp(cmd, "restore") == 0)
		return cmd_restore(name, rest, args);
	if (strcmp(cmd, "inspect") == 0)
		return cmd_inspect(name, rest, args);
	if (strcmp(cmd, "diff") == 0)
		return cli_diff(rest + 1, args - 1);
	if (strcmp(cmd, "merge") == 0)
		return cmd_merge(rest, args);
	if (strcmp(cmd, "release") == 0) {
		if (rest != 1)
			return usage_error("release: %s", "wants one NAME (release NAME)");
		const char *req[] = { "release", args[0] };
		return cli_simple_request(name, req, 2);
	}
	return usage_error("unknown command '%s' (run, ps, stats, checkpoint, release, restore, inspect, diff, merge)",
			   cmd);
}
