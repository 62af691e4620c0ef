/*
 * Signal sources and signal contexts: core's objects behind Genode's
 * asynchronous notifications, as on Fiasco.OC.
 *
 * Both are core gates, allocated through the PD session (pd_session.h:
 * ALLOC_SIGNAL_SOURCE, ALLOC_CONTEXT, FREE_*, SUBMIT).
 *
 * A signal context is what a sender names: it carries an imprint (a value
 * its owner chose, e.g. the address of its handler) and a pending count.
 * Every submit adds to the count. The submit that makes a context pending
 * queues it at its source; a context is queued at most once, however often
 * it is submitted, and its counts add up until it is fetched.
 *
 * A signal source is what the receiver fetches from. It owns a blocking
 * semaphore: a kernel IRQ created by core and attached by core to the
 * receiver's signal-handler thread. Core keeps one trigger outstanding
 * while contexts are queued: it triggers the IRQ when the first context is
 * queued at an empty source, and again after a WAIT_FOR_SIGNAL that leaves
 * contexts queued. So the handler thread's loop is: IRQ receive (blocks),
 * WAIT_FOR_SIGNAL once, dispatch, repeat, and it neither misses a signal
 * nor wakes for nothing (Genode's Signal_source_client on Fiasco.OC).
 *
 * Source (AMBER_PROTO_SIGNAL_SOURCE):
 *   WAIT_FOR_SIGNAL   never blocks -> mr[0] = imprint, mr[1] = count of the
 *                     first queued context, which is then no longer
 *                     pending; AMBER_ERR_TIMEOUT if none is queued.
 * Context (AMBER_PROTO_SIGNAL_CONTEXT):
 *   SUBMIT            mr[1] = count (1 .. UINT32_MAX): the same as PD
 *                     SUBMIT, for whoever holds the context, without a PD
 *                     session. NO_PARTNER once its source is gone.
 * Counts saturate at UINT32_MAX.
 */
#ifndef AMBER_SIGNAL_SOURCE_H
#define AMBER_SIGNAL_SOURCE_H

#include "abi.h"

#define AMBER_PROTO_SIGNAL_SOURCE 0x1010u
#define AMBER_PROTO_SIGNAL_CONTEXT 0x1011u
#define AMBER_SIGNAL_COUNT_MAX 0xffffffffu

enum amber_signal_source_method {
	AMBER_SIGNAL_SOURCE_WAIT_FOR_SIGNAL = 1,
};

enum amber_signal_context_method {
	AMBER_SIGNAL_CONTEXT_SUBMIT = 1,
};

#endif
