/*
 * Tiny protocols of the test components (components/test_*), shared by the
 * server and client halves of each test.
 *
 * window (test_window_server / test_window_client): the server waits with a
 * receive window of AMBER_TEST_WINDOW_SIZE slot.
 *   PING (any number of map items) -> mr[0] = 0, mr[1] = items received
 *   QUIT                           -> reply, then the server exits
 * dier (test_dier / test_dier_client): any call makes the server exit
 *   without replying.
 * ramshare (test_session_crash / test_session_peer): the server owns a RAM
 *   dataspace whose first word is AMBER_TEST_RAMSHARE_MAGIC.
 *   GET   -> one map item: the dataspace
 *   CRASH -> reply, then the server faults (with threads and attachments)
 * sigpeer (test_signal_peer; clients test_signals, test_signal_crash):
 *   SUBMIT mr[1] = count, mr[2] = times, mr[3] = VIA_PD or VIA_CONTEXT;
 *          item: a signal context -> the peer submits `count` that many
 *          times, through its PD session or the context's own SUBMIT;
 *          mr[0] = the last error
 *   HOLD   item: a signal context -> reply; the peer keeps it and waits
 *          until core revokes it (its owner ended), then exits
 *   QUIT   -> reply, then the peer exits
 */
#ifndef AMBER_TEST_PROTOCOLS_H
#define AMBER_TEST_PROTOCOLS_H

#define AMBER_TEST_WINDOW_SERVICE "window"
#define AMBER_TEST_WINDOW_PROTO 0x2101u
#define AMBER_TEST_WINDOW_SIZE 1u
enum { AMBER_TEST_WINDOW_PING = 1, AMBER_TEST_WINDOW_QUIT = 2 };

#define AMBER_TEST_DIER_SERVICE "dier"
#define AMBER_TEST_DIER_PROTO 0x2102u

#define AMBER_TEST_RAMSHARE_SERVICE "ramshare"
#define AMBER_TEST_RAMSHARE_PROTO 0x2103u
#define AMBER_TEST_RAMSHARE_MAGIC 0x5ea55e55u
enum { AMBER_TEST_RAMSHARE_GET = 1, AMBER_TEST_RAMSHARE_CRASH = 2 };

#define AMBER_TEST_SIGPEER_SERVICE "sigpeer"
#define AMBER_TEST_SIGPEER_PROTO 0x2104u
enum { AMBER_TEST_SIGPEER_SUBMIT = 1, AMBER_TEST_SIGPEER_HOLD = 2, AMBER_TEST_SIGPEER_QUIT = 3 };
enum { AMBER_TEST_SIGPEER_VIA_PD = 0, AMBER_TEST_SIGPEER_VIA_CONTEXT = 1 };

#endif
