/*
 * The test protocol of components/test_root_server: one session object
 * per client (amber/root.h).
 *   ADD   w[0] = n -> w[0] = this session's sum so far
 *   OPEN  -> w[0] = sessions the server has open now
 */
#ifndef AMBER_TEST_ROOT_H
#define AMBER_TEST_ROOT_H

#define AMBER_TEST_ROOT_SERVICE "sessions"
#define AMBER_TEST_ROOT_PROTO 0x4601u
enum { AMBER_TEST_ROOT_ADD = 1, AMBER_TEST_ROOT_OPEN = 2 };

#endif
