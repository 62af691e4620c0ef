/*
 * test_cpu_state: a paused thread's full register state (FPU/SSE/AVX)
 * through CPU STATE_FULL / SET_STATE_FULL and a RAM dataspace (the blob of
 * amber/cpu_session.h), checked from a component (amber/check.h).
 *
 * A worker loads XMM0..15 from a known pattern (movq/pinsrq) and spins,
 * storing XMM0 to memory on every round. Paused, its blob shows the
 * pattern at the legacy FXSAVE offset 160 of the XSAVE area; a new XMM0
 * written into the blob and set with SET_STATE_FULL is what the worker
 * reports once resumed. Malformed blobs and running threads are refused
 * with INVALID_ARG.
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/cpu.h>
#include <amber/env.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/pd.h>
#include <amber/rm.h>
#include <amber/string.h>
#include <amber/thread.h>
#include <amber/timer.h>

#define WAIT_US 10000000u
#define NAP_US 1000u
#define NEW_LO 0x0123456789abcdefull
#define NEW_HI 0xfedcba9876543210ull

static amber_sel_t pd, cpu, rm;
static struct amber_timer naps;

/* pattern[2i], pattern[2i+1]: the low and high halves of XMMi. */
static uint64_t pattern[32];
/* What the worker stores every round: xmm0 low, high; the round; stop. */
static volatile uint64_t seen[4];

static void xmm_worker(void *arg)
{
	(void)arg;
#define LOAD(i) "movq " #i "*16(%0), %%rax\n\tmovq %%rax, %%xmm" #i "\n\t" \
		"movq " #i "*16+8(%0), %%rax\n\tpinsrq $1, %%rax, %%xmm" #i "\n\t"
	__asm__ volatile(LOAD(0) LOAD(1) LOAD(2) LOAD(3) LOAD(4) LOAD(5) LOAD(6) LOAD(7)
			 LOAD(8) LOAD(9) LOAD(10) LOAD(11) LOAD(12) LOAD(13) LOAD(14) LOAD(15)
			 "1:\n\t"
			 "movq %%xmm0, %%rax\n\tmovq %%rax, 0(%1)\n\t"
			 "pextrq $1, %%xmm0, %%rax\n\tmovq %%rax, 8(%1)\n\t"
			 "incq 16(%1)\n\t"
			 "pause\n\t"
			 "cmpq $0, 24(%1)\n\t"
			 "je 1b\n\t"
			 :
			 : "r"(pattern), "r"(seen)
			 : "rax", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
			   "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
#undef LOAD
}

static int wait_rounds(uint64_t after)
{
	for (unsigned i = 0; i < WAIT_US / NAP_US; i++) {
		if (seen[2] > after + 10)
			return 1;
		amber_timer_sleep_us(&naps, NAP_US);
	}
	return 0;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

int main(void)
{
	pd = amber_env_pd();
	cpu = amber_env_cpu();
	rm = amber_env_rm();
	for (unsigned i = 0; i < 32; i++)
		pattern[i] = 0x5a5a000000000000ull | ((uint64_t)(i / 2) << 16) | ((uint64_t)(i % 2) << 8) | 0x42;

	uint64_t need = 0, blob_size = 0, addr = 0;
	amber_sel_t ds = amber_cap_alloc(), small = amber_cap_alloc();
	struct amber_thread w;
	if (!amber_check_err("a timer", amber_timer_open(&naps), AMBER_OK) ||
	    !amber_check_err("STATE_FULL_SIZE", amber_cpu_state_full_size(cpu, &need), AMBER_OK) ||
	    !amber_check_val("it covers the header, the registers and the FXSAVE area",
			     need >= AMBER_CPU_BLOB_XSTATE_OFFSET + 512, 1) ||
	    !amber_check_err("a RAM dataspace of that size", amber_pd_alloc_ram(pd, need, ds), AMBER_OK) ||
	    !amber_check_err("attached", amber_rm_attach(rm, ds, 0, 0, 0, AMBER_RM_WRITABLE, &addr), AMBER_OK) ||
	    !amber_check_err("a worker loading xmm0..15", amber_thread_create(&w, xmm_worker, 0), AMBER_OK) ||
	    !amber_check_val("it runs", wait_rounds(0), 1))
		amber_exit(amber_check_done());
	uint8_t *blob = (uint8_t *)(uintptr_t)addr;
	struct amber_cpu_state_blob h;

	amber_check_err("STATE_FULL of a running thread -> INVALID_ARG", amber_cpu_state_full(cpu, w.sel, ds, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("STATE_FULL into something else than a dataspace -> INVALID_ARG",
			amber_cpu_state_full(cpu, w.sel, AMBER_SEL_LOG, 0), AMBER_ERR_INVALID_ARG);

	amber_check_err("PAUSE", amber_cpu_pause(cpu, w.sel), AMBER_OK);
	if (!amber_check_err("STATE_FULL", amber_cpu_state_full(cpu, w.sel, ds, &blob_size), AMBER_OK))
		amber_exit(amber_check_done());
	memcpy(&h, blob, sizeof(h));
	amber_check_val("magic", h.magic, AMBER_CPU_BLOB_MAGIC);
	amber_check_val("version", h.version, AMBER_CPU_BLOB_VERSION);
	amber_check_val("header size", h.header_size, sizeof(h));
	amber_check_val("registers at their offset", h.gp_offset, AMBER_CPU_BLOB_GP_OFFSET);
	amber_check_val("STATE's registers", h.gp_size, AMBER_CPU_STATE_WORDS * 8);
	amber_check_val("xstate at its offset", h.xstate_offset, AMBER_CPU_BLOB_XSTATE_OFFSET);
	amber_check_val("an XSAVE area", h.xstate_size >= 512, 1);
	amber_check_val("total size", h.total_size, (uint64_t)h.xstate_offset + h.xstate_size);
	amber_check_val("the reply names it", blob_size, h.total_size);
	amber_check_val("within the size STATE_FULL_SIZE reported", h.total_size <= need, 1);
	struct amber_thread_state st;
	amber_check_err("STATE", amber_cpu_state(cpu, w.sel, &st), AMBER_OK);
	amber_check_val("the blob's rip is STATE's", get64(blob + h.gp_offset), st.rip);
	amber_check_val("the blob's fs_base is STATE's", get64(blob + h.gp_offset + 18 * 8), st.fs_base);
	const uint8_t *xmm = blob + h.xstate_offset + AMBER_CPU_BLOB_XMM_OFFSET;
	unsigned match = 0;
	for (unsigned i = 0; i < 32; i++)
		match += get64(xmm + i * 8) == pattern[i];
	amber_check_val("xmm0..15 in the blob are the worker's pattern", match, 32);

	/* Malformed blobs: each refused, nothing written. */
	uint8_t saved[AMBER_CPU_BLOB_XSTATE_OFFSET];
	memcpy(saved, blob, sizeof(saved));
	struct amber_cpu_state_blob bad = h;
	bad.magic ^= 1;
	memcpy(blob, &bad, sizeof(bad));
	amber_check_err("SET_STATE_FULL wrong magic -> INVALID_ARG", amber_cpu_set_state_full(cpu, w.sel, ds),
			AMBER_ERR_INVALID_ARG);
	bad = h;
	bad.version = 2;
	memcpy(blob, &bad, sizeof(bad));
	amber_check_err("SET_STATE_FULL wrong version -> INVALID_ARG", amber_cpu_set_state_full(cpu, w.sel, ds),
			AMBER_ERR_INVALID_ARG);
	bad = h;
	bad.xstate_size -= 64;
	bad.total_size -= 64;
	memcpy(blob, &bad, sizeof(bad));
	amber_check_err("SET_STATE_FULL truncated xstate -> INVALID_ARG", amber_cpu_set_state_full(cpu, w.sel, ds),
			AMBER_ERR_INVALID_ARG);
	bad = h;
	bad.total_size = 1u << 30;
	memcpy(blob, &bad, sizeof(bad));
	amber_check_err("SET_STATE_FULL larger than the dataspace -> INVALID_ARG",
			amber_cpu_set_state_full(cpu, w.sel, ds), AMBER_ERR_INVALID_ARG);
	bad = h;
	bad.gp_size = 8;
	memcpy(blob, &bad, sizeof(bad));
	amber_check_err("SET_STATE_FULL wrong register size -> INVALID_ARG", amber_cpu_set_state_full(cpu, w.sel, ds),
			AMBER_ERR_INVALID_ARG);
	memcpy(blob, saved, sizeof(saved));
	if (amber_check_err("a one-page dataspace", amber_pd_alloc_ram(pd, AMBER_PAGE_SIZE, small), AMBER_OK)) {
		if (h.total_size > AMBER_PAGE_SIZE)
			amber_check_err("STATE_FULL into a too small dataspace -> INVALID_ARG",
					amber_cpu_state_full(cpu, w.sel, small, 0), AMBER_ERR_INVALID_ARG);
		amber_check_err("SET_STATE_FULL from a dataspace without a blob -> INVALID_ARG",
				amber_cpu_set_state_full(cpu, w.sel, small), AMBER_ERR_INVALID_ARG);
	}
	amber_check_err("SET_STATE_FULL of something else than a dataspace -> INVALID_ARG",
			amber_cpu_set_state_full(cpu, w.sel, AMBER_SEL_LOG), AMBER_ERR_INVALID_ARG);

	/* A new xmm0. */
	uint64_t lo = NEW_LO, hi = NEW_HI;
	memcpy(blob + h.xstate_offset + AMBER_CPU_BLOB_XMM_OFFSET, &lo, 8);
	memcpy(blob + h.xstate_offset + AMBER_CPU_BLOB_XMM_OFFSET + 8, &hi, 8);
	amber_check_err("SET_STATE_FULL with a new xmm0", amber_cpu_set_state_full(cpu, w.sel, ds), AMBER_OK);
	amber_check_err("STATE_FULL again", amber_cpu_state_full(cpu, w.sel, ds, 0), AMBER_OK);
	amber_check_val("it shows the new xmm0", get64(xmm) == NEW_LO && get64(xmm + 8) == NEW_HI, 1);
	amber_check_val("and xmm1 as it was", get64(xmm + 16) == pattern[2] && get64(xmm + 24) == pattern[3], 1);
	uint64_t round = seen[2];
	amber_check_err("RESUME", amber_cpu_resume(cpu, w.sel), AMBER_OK);
	amber_check_val("the worker runs on", wait_rounds(round), 1);
	amber_check_val("the worker sees the new xmm0", seen[0] == NEW_LO && seen[1] == NEW_HI, 1);

	amber_check_err("SET_STATE_FULL of a running thread -> INVALID_ARG", amber_cpu_set_state_full(cpu, w.sel, ds),
			AMBER_ERR_INVALID_ARG);
	seen[3] = 1;
	amber_check_err("the worker ends", amber_thread_join(&w), AMBER_OK);
	amber_exit(amber_check_done());
}
