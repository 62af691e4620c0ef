/*
 * A component built outside the tree with the SDK (tests/sdk/hello_sdk/Makefile):
 * the integration test builds it in a temporary folder and runs it.
 */
#include <amber/log.h>

int main(void)
{
	amber_log("hello from a component built with the SDK");
	return 0;
}
