/*
 * Host-side tests of the component runtime's pure functions: the printf
 * core (lib/base/printf.c) against glibc's snprintf, and the string
 * functions (lib/base/string.c). Built by the "runtime host tests" rule of
 * the Makefile, which renames the runtime's mem and str functions (rt_*)
 * so they do not replace glibc's in this process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <amber/printf.h>
#include <amber/string.h>

/* The cases below exercise corner cases on purpose ('0' with '-' or a
 * precision, unknown conversions) that -Wformat rightly complains about. */
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
#pragma GCC diagnostic ignored "-Wformat-overflow"

/* Format with both implementations and compare the text and the length. */
#define SAME(...)                                                                              \
	do {                                                                                   \
		char want[256], got[256];                                                      \
		int wn = snprintf(want, sizeof want, __VA_ARGS__);                             \
		int gn = amber_snprintf(got, sizeof got, __VA_ARGS__);                         \
		assert_string_equal(got, want);                                                \
		assert_int_equal(gn, wn);                                                      \
	} while (0)

static void test_integers(void **state)
{
	(void)state;
	SAME("%d %i %u", 42, -17, 3000000000u);
	SAME("%d", (int)-2147483647 - 1);
	SAME("%ld %lu", (long)INT64_MIN, (unsigned long)UINT64_MAX);
	SAME("%lld %llu", (long long)INT64_MIN, (unsigned long long)UINT64_MAX);
	SAME("%zu %zd", (size_t)123456789, (ptrdiff_t)-5);
	SAME("%x %X %lx %llx", 0xbeefu, 0xbeefu, 0xdeadbeefcafeul, 0x0123456789abcdefull);
	SAME("%o %#o %#x %#X %#x", 8u, 8u, 255u, 255u, 0u);
	SAME("%hhd %hhu %hd %hu", 300, 300, 70000, 70000);
	SAME("%5d|%-5d|%05d|%+d|% d|%+05d", 42, 42, 42, 42, 42, 42);
	SAME("%05d|%-05d|%5d", -42, -42, -42);
	SAME("%.3d|%8.3d|%-8.3d|%08.3d|%.0d|%.0x", 7, 7, 7, 7, 0, 0u);
	SAME("%016lx|%#018lx|%*d|%-*d|%.*d", 0xabcul, 0xabcul, 6, 1, 6, 1, 4, 2);
	SAME("%d%%", 100);
}

static void test_strings_chars_pointers(void **state)
{
	(void)state;
	SAME("[%s] [%10s] [%-10s] [%.3s] [%10.3s] [%.*s]", "hello", "hello", "hello", "hello", "hello", 2, "hello");
	SAME("[%c] [%3c] [%-3c]", 'a', 'b', 'c');
	SAME("%p %p", (void *)0x1000000, (void *)0x7fffdeadbeef);
	char got[32];
	amber_snprintf(got, sizeof got, "%s", (const char *)NULL);
	assert_string_equal(got, "(null)");
}

static void test_truncation(void **state)
{
	(void)state;
	char buf[8];
	memset(buf, 'x', sizeof buf);
	assert_int_equal(amber_snprintf(buf, sizeof buf, "%s", "0123456789"), 10);
	assert_string_equal(buf, "0123456");
	assert_int_equal(amber_snprintf(buf, 1, "abc"), 3);
	assert_string_equal(buf, "");
	buf[0] = 'q';
	assert_int_equal(amber_snprintf(buf, 0, "abc"), 3);
	assert_int_equal(buf[0], 'q');
	assert_int_equal(amber_snprintf(buf, sizeof buf, "%q"), 2); /* unknown: printed as written */
	assert_string_equal(buf, "%q");
}

static void test_mem(void **state)
{
	(void)state;
	unsigned char a[64], b[64];
	for (unsigned i = 0; i < sizeof a; i++)
		a[i] = (unsigned char)i;
	for (size_t off = 0; off < 9; off++)
		for (size_t n = 0; n < 40; n++) {
			memset(b, 0xee, sizeof b);
			memcpy(b + off, a + 3, n);
			assert_int_equal(memcmp(b + off, a + 3, n), 0);
			if (off + n < sizeof b)
				assert_int_equal(b[off + n], 0xee);
		}
	memset(b + 1, 0x5a, 17);
	for (unsigned i = 1; i < 18; i++)
		assert_int_equal(b[i], 0x5a);

	/* memmove both ways */
	char s[] = "0123456789";
	memmove(s + 2, s, 5);
	assert_string_equal(s, "0101234789");
	char t[] = "0123456789";
	memmove(t, t + 3, 5);
	assert_string_equal(t, "3456756789");

	assert_true(memcmp("abc", "abd", 3) < 0);
	assert_true(memcmp("abd", "abc", 3) > 0);
	assert_int_equal(memcmp("abc", "abd", 2), 0);
}

static void test_str(void **state)
{
	(void)state;
	assert_int_equal(strlen(""), 0);
	assert_int_equal(strlen("hello"), 5);
	assert_int_equal(strnlen("hello", 3), 3);
	assert_int_equal(strnlen("hi", 9), 2);
	assert_int_equal(strcmp("a", "a"), 0);
	assert_true(strcmp("a", "b") < 0);
	assert_true(strcmp("b", "a") > 0);
	assert_true(strcmp("ab", "a") > 0);
	assert_true(strcmp("\xff", "a") > 0); /* compared as unsigned char */
	assert_int_equal(strncmp("abcd", "abcx", 3), 0);
	assert_true(strncmp("abcd", "abcx", 4) < 0);
	assert_int_equal(strncmp("ab", "ab", 10), 0);

	char d[6];
	assert_int_equal(amber_strlcpy(d, "hello world", sizeof d), 11);
	assert_string_equal(d, "hello");
	assert_int_equal(amber_strlcpy(d, "hi", sizeof d), 2);
	assert_string_equal(d, "hi");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers), cmocka_unit_test(test_strings_chars_pointers),
		cmocka_unit_test(test_truncation), cmocka_unit_test(test_mem), cmocka_unit_test(test_str),
	};
	return cmocka_run_group_tests_name("runtime printf and string", tests, NULL, NULL);
}
