/*
 * The "hello" service of the demo pair (components/hello_server and
 * components/hello_client): plain RPC, a string, a counter, and passing a
 * capability (an IRQ) that the server then triggers to wake the client.
 *
 * Request: tag label AMBER_HELLO_PROTO, mr[0] = method, mr[1..] = args.
 * Reply:   tag label AMBER_HELLO_PROTO, mr[0] = status (0 or a negative
 *          enum amber_error), mr[1..] = results.
 *
 *   ADD      mr[1] = a, mr[2] = b             -> mr[1] = a + b (mod 2^64)
 *   ECHO     mr[1] = length, mr[2..] = bytes  -> the same string back
 *   COUNT                                     -> mr[1] = requests served,
 *                                                this one included
 *   GIVE_IRQ one map item: an IRQ capability (INVOKE is enough)
 *                                             -> mr[1] = n; after replying
 *            the server triggers the IRQ n times, then deletes its copy
 *   QUIT                                      -> reply, then the server exits
 * Unknown methods are answered with status AMBER_ERR_OPCODE, a wrong tag
 * label with AMBER_ERR_PROTO, a malformed request with AMBER_ERR_INVALID_ARG.
 */
#ifndef AMBER_HELLO_H
#define AMBER_HELLO_H

#include "abi.h"

#define AMBER_HELLO_SERVICE "hello"
#define AMBER_HELLO_PROTO 0x2001u
#define AMBER_HELLO_IRQ_TRIGGERS 3u

enum amber_hello_method {
	AMBER_HELLO_ADD = 1,
	AMBER_HELLO_ECHO = 2,
	AMBER_HELLO_COUNT = 3,
	AMBER_HELLO_GIVE_IRQ = 4,
	AMBER_HELLO_QUIT = 5,
};

#endif
