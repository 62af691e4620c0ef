/*
 * test_log_lines: how core assembles LOG lines (core/log.c), checked by
 * tests/integration/test_sessions.c from the lines it prints:
 *
 * 1. one thread's writes without '\n' continue its own line;
 * 2. another thread's line in between is not joined to it, and a thread
 *    that ends with an unfinished line has it printed then;
 * 3. two threads printing long lines at once never mix their text;
 * 4. a line longer than 1024 bytes is printed in pieces of at most 1024
 *    bytes, each cut where one write ended.
 */
#include <amber/log.h>
#include <amber/string.h>
#include <amber/thread.h>

#define LONG 3000
#define ROUNDS 10

static char a_line[LONG + 1], b_line[LONG + 1], x_line[2500 + 1];

static void worker_line(void *arg)
{
	(void)arg;
	amber_log("worker line");
}

static void unfinished(void *arg)
{
	(void)arg;
	amber_log_write("left unfinished", 15);
}

static void long_lines(void *arg)
{
	const char *line = arg;
	for (int i = 0; i < ROUNDS; i++)
		amber_log("%s", line);
}

int main(void)
{
	amber_log_write("abc", 3);
	amber_log_write("def\n", 4);

	struct amber_thread t, u;
	amber_log_write("unfinished by main ", 19);
	amber_thread_create(&t, worker_line, 0);
	amber_thread_join(&t);
	amber_log_write("and finished\n", 13);

	amber_thread_create(&t, unfinished, 0);
	amber_thread_join(&t); /* its end prints its line */
	amber_log("after the unfinished one");

	memset(a_line, 'A', LONG);
	memset(b_line, 'B', LONG);
	amber_thread_create(&t, long_lines, a_line);
	amber_thread_create(&u, long_lines, b_line);
	amber_thread_join(&t);
	amber_thread_join(&u);

	memset(x_line, 'x', sizeof(x_line) - 1);
	amber_log("%s", x_line);
	amber_log("lines: done");
	return 0;
}
