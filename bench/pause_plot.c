/*
 * pause_plot RESULTS.json OUT.svg: the checkpoint pause against memory
 * size, one line per kind of checkpoint (full, incremental with 1% and
 * 10% of the pages written), CRIU's frozen time beside them, from the
 * figures cr_bench wrote into results.json in the same run. Both axes are
 * logarithmic: sizes double, and pauses span four orders of magnitude.
 *
 * results.json is cr_bench's own output, one `"key": number` per line
 * (cr_bench.c write_results), so a line reader is all it takes; a key
 * that is missing or null leaves its point out.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEYS 1024
#define KEY_MAX 96

static struct {
	char key[KEY_MAX];
	double value;
} keys[MAX_KEYS];
static int nkeys;

static int read_results(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	char line[512];
	while (fgets(line, sizeof(line), f) && nkeys < MAX_KEYS) {
		char key[KEY_MAX];
		double v;
		if (sscanf(line, " \"%95[^\"]\": %lf", key, &v) == 2) {
			snprintf(keys[nkeys].key, KEY_MAX, "%s", key);
			keys[nkeys++].value = v;
		}
	}
	fclose(f);
	return 0;
}

/* The value of the key `fmt` names, or a negative number if there is none. */
static double value(const char *fmt, unsigned mib)
{
	char key[KEY_MAX];
	snprintf(key, sizeof(key), fmt, mib);
	for (int i = 0; i < nkeys; i++)
		if (strcmp(keys[i].key, key) == 0)
			return keys[i].value;
	return -1;
}

static const unsigned sizes[] = { 1, 16, 64, 256, 1024 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* One line of the plot: keys tried in order for each size. */
struct series {
	const char *label, *colour, *dash;
	const char *keys[3];
};

static const struct series series[] = {
	{ "full checkpoint", "#1f77b4", "", { "cr_pause_full_ms_%u", "cr_pause_ms_%u", NULL } },
	{ "incremental, 1% written", "#2ca02c", "", { "cr_pause_incr1_ms_%u", NULL } },
	{ "incremental, 10% written", "#98df8a", "", { "cr_pause_incr10_ms_%u", NULL } },
	{ "CRIU dump (frozen)", "#d62728", "6,4", { "criu_dump_frozen_ms_%u", NULL } },
	{ "fork() of the memory", "#7f7f7f", "2,3", { "fork_ms_%u", NULL } },
};
#define NSERIES (sizeof(series) / sizeof(series[0]))

/* Plot area, in SVG user units. */
enum { W = 760, H = 460, LEFT = 70, RIGHT = 230, TOP = 40, BOTTOM = 60 };
static const double y_lo = 0.1, y_hi = 10000.0; /* ms */

static double px(unsigned mib)
{
	double span = log2((double)sizes[NSIZES - 1]) - log2((double)sizes[0]);
	return LEFT + (log2((double)mib) - log2((double)sizes[0])) / span * (W - LEFT - RIGHT);
}

static double py(double ms)
{
	if (ms < y_lo)
		ms = y_lo;
	return TOP + (log10(y_hi) - log10(ms)) / (log10(y_hi) - log10(y_lo)) * (H - TOP - BOTTOM);
}

static void axes(FILE *o)
{
	fprintf(o, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n", LEFT, TOP,
		W - LEFT - RIGHT, H - TOP - BOTTOM);
	for (double ms = y_lo; ms <= y_hi * 1.001; ms *= 10) {
		fprintf(o, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", LEFT, W - RIGHT, py(ms),
			py(ms));
		fprintf(o, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"12\">%g</text>\n", LEFT - 6,
			py(ms) + 4, ms);
	}
	for (size_t i = 0; i < NSIZES; i++) {
		fprintf(o, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>\n", px(sizes[i]),
			px(sizes[i]), TOP, H - BOTTOM);
		fprintf(o, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"12\">%u</text>\n", px(sizes[i]),
			H - BOTTOM + 18, sizes[i]);
	}
	fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\">memory of the component (MiB)</text>\n",
		(LEFT + W - RIGHT) / 2, H - 18);
	fprintf(o, "<text transform=\"translate(18 %d) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">pause (ms)</text>\n",
		(TOP + H - BOTTOM) / 2);
	fprintf(o, "<text x=\"%d\" y=\"24\" font-size=\"15\">Checkpoint pause against memory size (make bench)</text>\n",
		LEFT);
}

/* The series' points that have a figure; 0 if none has. */
static int draw(FILE *o, const struct series *s, int row)
{
	char points[1024] = "";
	size_t len = 0;
	int n = 0;
	for (size_t i = 0; i < NSIZES; i++) {
		double v = -1;
		for (int k = 0; s->keys[k] && v < 0; k++)
			v = value(s->keys[k], sizes[i]);
		if (v < 0)
			continue;
		len += (size_t)snprintf(points + len, sizeof(points) - len, "%.1f,%.1f ", px(sizes[i]), py(v));
		fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s, %u MiB: %.2f ms</title></circle>\n",
			px(sizes[i]), py(v), s->colour, s->label, sizes[i], v);
		n++;
	}
	if (n == 0)
		return 0;
	fprintf(o, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"%s\"/>\n",
		points, s->colour, s->dash);
	int y = TOP + 10 + row * 22;
	fprintf(o, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"%s\"/>\n",
		W - RIGHT + 14, W - RIGHT + 44, y, y, s->colour, s->dash);
	fprintf(o, "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>\n", W - RIGHT + 50, y + 4, s->label);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: pause_plot RESULTS.json OUT.svg\n");
		return 2;
	}
	if (read_results(argv[1]) < 0)
		return 1;
	FILE *o = fopen(argv[2], "w");
	if (!o) {
		perror(argv[2]);
		return 1;
	}
	fprintf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		   "font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		W, H, W, H);
	axes(o);
	int drawn = 0;
	for (size_t i = 0; i < NSERIES; i++)
		drawn += draw(o, &series[i], drawn);
	fprintf(o, "</svg>\n");
	if (fclose(o) != 0) {
		perror(argv[2]);
		return 1;
	}
	if (drawn == 0) {
		fprintf(stderr, "pause_plot: %s has no pause figures\n", argv[1]);
		return 1;
	}
	printf("pause plot: %s (%d lines)\n", argv[2], drawn);
	return 0;
}
