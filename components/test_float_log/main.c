/*
 * test_float_log: floating point through amber_log in a real component
 * (freestanding, doubles in SSE registers through varargs); the exact
 * text is checked by tests/integration/test_examples.c, the corner cases
 * against glibc by tests/unit/test_printf.c.
 */
#include <amber/log.h>

int main(void)
{
	volatile double third = 1.0 / 3.0, big = 1.7976931348623157e308, zero = 0.0;
	amber_log("f: %f %.2f %8.3f|%-8.1f|%+.0f", third, 2.675, -3.14159, 0.25, 2.5);
	amber_log("e: %e %.3E %12.2e", third, 6.02214076e23, -1e-300);
	amber_log("g: %g %g %g %.3g %#g", third, 1e-5, 123456789.0, 0.0001234, 1.0);
	amber_log("special: %f %e %G %5.1f", 1.0 / zero, -1.0 / zero, zero / zero, -zero);
	amber_log("big: %.0f", big);
	return 0;
}
