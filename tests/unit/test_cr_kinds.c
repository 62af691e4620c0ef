/*
 * Every kind of state a checkpoint saves is loaded again, and the walkers
 * call both (issue 7: "each kind of kernel and core object saves and loads
 * its own state in its own module; a test checks that every kind has
 * both").
 *
 * The seam is core/cr_state.h, where each module declares NAME_save and
 * NAME_load (a suffix may follow: core_ds_save_owned, cpu_load_process),
 * and kernel/kernel.h, where each kernel object has NAME_export and
 * NAME_import. The test reads those headers: a kind with only one half,
 * or a half that no code in core/ calls, fails it.
 */
#include <dirent.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MAX_NAMES 64

struct names {
	char v[MAX_NAMES][64];
	char full[MAX_NAMES][64]; /* the declared function */
	size_t n;
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot read %s (run from the source tree)", path);
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)len + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)len, f), (size_t)len);
	s[len] = '\0';
	fclose(f);
	return s;
}

/* Every declaration `pattern` matches in `text`: group 1 is the function,
 * group 2 its kind. */
static void declared(const char *text, const char *pattern, struct names *out)
{
	regex_t re;
	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE), 0);
	regmatch_t m[3];
	out->n = 0;
	for (const char *p = text; regexec(&re, p, 3, m, 0) == 0; p += m[0].rm_eo) {
		assert_true(out->n < MAX_NAMES);
		snprintf(out->full[out->n], sizeof(out->full[0]), "%.*s", (int)(m[1].rm_eo - m[1].rm_so), p + m[1].rm_so);
		snprintf(out->v[out->n], sizeof(out->v[0]), "%.*s", (int)(m[2].rm_eo - m[2].rm_so), p + m[2].rm_so);
		if (strcmp(out->v[out->n], "cr") != 0) /* the walkers' own helpers (cr_save_ds, cr_load_session) */
			out->n++;
	}
	regfree(&re);
}

static bool has(const struct names *n, const char *kind)
{
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->v[i], kind) == 0)
			return true;
	return false;
}

static void pairs(const struct names *a, const char *a_what, const struct names *b, const char *b_what)
{
	for (size_t i = 0; i < a->n; i++)
		if (!has(b, a->v[i]))
			fail_msg("%s has %s but no %s", a->v[i], a_what, b_what);
}

/* Is `fn` called in core/ (an occurrence of "fn(" that is not its
 * definition "int fn(" / "void fn(")? */
static bool called_in_core(const char *fn)
{
	DIR *d = opendir("core");
	assert_non_null(d);
	char call[96];
	snprintf(call, sizeof(call), "%s(", fn);
	bool found = false;
	for (struct dirent *e; !found && (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (len < 3 || strcmp(e->d_name + len - 2, ".c") != 0)
			continue;
		char path[300];
		snprintf(path, sizeof(path), "core/%s", e->d_name);
		char *text = slurp(path);
		for (const char *p = strstr(text, call); p && !found; p = strstr(p + 1, call)) {
			bool is_name = p == text || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= '0' && p[-1] <= '9'));
			const char *line = p;
			while (line > text && line[-1] != '\n')
				line--;
			bool definition = line + 4 <= p && (strncmp(line, "int ", 4) == 0 || strncmp(line, "void ", 5) == 0);
			found = is_name && !definition;
		}
		free(text);
	}
	closedir(d);
	return found;
}

static void core_modules_save_and_load(void **state)
{
	(void)state;
	char *h = slurp("core/cr_state.h");
	struct names save, load;
	/* int KIND_save...( and int KIND_load...( */
	declared(h, "^int (([a-z][a-z_]*[a-z])_save[a-z_]*)\\(", &save);
	declared(h, "^int (([a-z][a-z_]*[a-z])_load[a-z_]*)\\(", &load);
	free(h);
	assert_true(save.n >= 10); /* the seam is there at all */
	pairs(&save, "a save function", &load, "load function");
	pairs(&load, "a load function", &save, "save function");
	for (size_t i = 0; i < save.n; i++)
		if (!called_in_core(save.full[i]))
			fail_msg("%s is never called: the checkpoint walker leaves that kind out", save.full[i]);
	for (size_t i = 0; i < load.n; i++)
		if (!called_in_core(load.full[i]))
			fail_msg("%s is never called: the restore leaves that kind out", load.full[i]);
}

static void kernel_objects_export_and_import(void **state)
{
	(void)state;
	char *h = slurp("kernel/kernel.h");
	struct names ex, im;
	declared(h, "^[a-z]+ ((kernel_[a-z_]*[a-z])_export)\\(", &ex);
	declared(h, "^[a-z]+ ((kernel_[a-z_]*[a-z])_import)\\(", &im);
	free(h);
	assert_true(ex.n >= 3); /* gates, IRQs, threads' IPC state */
	pairs(&ex, "an export", &im, "import");
	pairs(&im, "an import", &ex, "export");
	for (size_t i = 0; i < ex.n; i++)
		if (!called_in_core(ex.full[i]))
			fail_msg("%s is never called from core: checkpoints leave that kernel object out", ex.full[i]);
	for (size_t i = 0; i < im.n; i++)
		if (!called_in_core(im.full[i]))
			fail_msg("%s is never called from core: restores leave that kernel object out", im.full[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(core_modules_save_and_load),
		cmocka_unit_test(kernel_objects_export_and_import),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
