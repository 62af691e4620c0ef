/*
 * raw_ipc: the raw Linux floor for a cross-process request/response round trip.
 *
 * Plain processes (fork) ping-pong a small request and its reply over
 *
 *   futex   a futex word in a MAP_SHARED anonymous page, shared (non-private)
 *           FUTEX_WAIT / FUTEX_WAKE, the same primitive as Amber's kernel entry
 *   pipe    a pair of pipes, 8-byte messages
 *   socket  a unix stream socketpair, 8-byte messages
 *   relay   the futex ping-pong through a third process:
 *           client -> relay -> server -> relay -> client, the shape of Amber's
 *           IPC, where the kernel process relays every message
 *   relay2  the same through two threads of one relay process, one per
 *           direction (client's entry thread forwards the call, server's entry
 *           thread forwards the reply): Amber's real shape, one amber-core
 *           thread per client thread
 *
 * The futex cases also come in variants with a different wait/wake policy:
 *
 *   -yield  wake elision + bounded yielding before blocking. The waiter
 *           advertises that it is about to sleep (bit 31 of the word, set
 *           with a CAS before FUTEX_WAIT); the poster exchanges the new value
 *           in and calls FUTEX_WAKE only if that bit was set. Before sleeping
 *           the waiter yields: once when its CPU mask has a single CPU (lets
 *           a peer queued on this CPU run without a futex wake-up), and when
 *           it has several, up to YIELD_SPIN_ROUNDS x (sched_yield + a short
 *           pause-spin), so a peer on the other CPU hands off through the
 *           cache line instead of an IPI to a halted vCPU. Bounded (tens of
 *           us), then it blocks in FUTEX_WAIT like the plain case.
 *   -fifo   the -yield policy with every process SCHED_FIFO (priority 1);
 *           skipped when that is not permitted
 *
 * futex-yield and futex-fifo count towards the floor (the floor is the
 * fastest raw round trip any trick gives); every relay case is reported
 * against it.
 *
 * each in two placements: every process pinned to one CPU (default CPU 0), and
 * unpinned (the CPU set the program started with). Per case: warm-up, a short
 * calibration that picks N so one repetition takes about --target seconds,
 * then --reps repetitions of N round trips; the median ns per round trip is
 * reported.
 *
 * Output (stdout):
 *   raw <case> <placement> <ns> ns        one machine-readable line per case
 *   raw best <placement> <ns> ns          fastest non-relay case per placement
 *   # ...                                 human summary
 * With --best pinned|unpinned only the fastest non-relay floor for that
 * placement is printed, as a bare integer (ns).
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum kind {
	K_FUTEX, K_PIPE, K_SOCKET, K_FUTEX_YIELD, K_FUTEX_FIFO,
	K_RELAY, K_RELAY_YIELD, K_RELAY2, K_RELAY2_YIELD, K_COUNT
};
static const char *const kind_name[K_COUNT] = {
	"futex", "pipe", "socket", "futex-yield", "futex-fifo",
	"relay", "relay-yield", "relay2", "relay2-yield",
};
static int is_relay(int k) { return k >= K_RELAY; }
static unsigned relay_mask(void)
{
	unsigned m = 0;
	for (int k = 0; k < K_COUNT; k++)
		if (is_relay(k))
			m |= 1u << k;
	return m;
}
static int is_futex(int k) { return k != K_PIPE && k != K_SOCKET; }
static int has_yield(int k)
{
	return k == K_FUTEX_YIELD || k == K_FUTEX_FIFO || k == K_RELAY_YIELD || k == K_RELAY2_YIELD;
}
/* 0: client <-> server; 1: one relay process; 2: relay process, two threads */
static int relay_shape(int k)
{
	if (k == K_RELAY || k == K_RELAY_YIELD)
		return 1;
	return k == K_RELAY2 || k == K_RELAY2_YIELD ? 2 : 0;
}

enum placement { P_PINNED, P_UNPINNED, P_COUNT };
static const char *const placement_name[P_COUNT] = { "pinned", "unpinned" };

/* Options. */
static long opt_n;              /* fixed round trips per repetition; 0 = calibrate */
static int opt_reps = 5;
static double opt_target = 0.25; /* seconds per repetition when calibrating */
static int opt_cpu;             /* CPU for the pinned placement */
static unsigned opt_kinds = (1u << K_COUNT) - 1;
static unsigned opt_places = (1u << P_COUNT) - 1;
static int opt_best = -1;       /* placement for --best, or -1 */
static int opt_quiet;

static cpu_set_t start_mask;    /* "unpinned" = the mask we were started with */

/* ---- helpers --------------------------------------------------------- */

static void die(const char *what)
{
	fprintf(stderr, "raw_ipc: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Wait/wake policy of the current case, set before the children are forked
 * (they inherit it). Plain: store + FUTEX_WAKE, FUTEX_WAIT while unchanged.
 */
#define SLEEPING 0x80000000u /* waiter is (about to be) in FUTEX_WAIT */
#define VALUE    0x7fffffffu
#define YIELD_SPIN_ROUNDS 20 /* multi-CPU mask: rounds of yield + spin */
#define YIELD_SPIN_PAUSES 20 /* pause-spins after each yield (~0.5 us) */
static struct {
	int elide;  /* post wakes only if the waiter flagged SLEEPING */
	int yields; /* sched_yield rounds before blocking */
	int pauses; /* pause-spins after each yield */
} wp;

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#else
	__asm__ volatile("" ::: "memory");
#endif
}

/* Shared (not FUTEX_PRIVATE_FLAG) futex operations, as in Amber's kernel entry.
 * FUTEX_PRIVATE_FLAG keys the futex by (mm, address), so a private wake never
 * reaches a waiter in another process: not usable here. */
static void futex_wait(uint32_t *word, uint32_t expected)
{
	if (syscall(SYS_futex, word, FUTEX_WAIT, expected, NULL, NULL, 0) < 0 &&
	    errno != EAGAIN && errno != EINTR)
		die("FUTEX_WAIT");
}

static void futex_wake(uint32_t *word)
{
	if (syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0) < 0)
		die("FUTEX_WAKE");
}

static uint32_t load(uint32_t *w) { return __atomic_load_n(w, __ATOMIC_ACQUIRE); }
static void store(uint32_t *w, uint32_t v) { __atomic_store_n(w, v, __ATOMIC_RELEASE); }

/* Post v (< 2^31) to a doorbell word and ring it (if anyone sleeps on it). */
static void post(uint32_t *w, uint32_t v)
{
	if (wp.elide) {
		if (__atomic_exchange_n(w, v, __ATOMIC_SEQ_CST) & SLEEPING)
			futex_wake(w);
		return;
	}
	store(w, v);
	futex_wake(w);
}

static int ready(uint32_t raw, uint32_t ref, int eq)
{
	return eq ? (raw & VALUE) == ref : (raw & VALUE) != ref;
}

/* Wait until the word's value equals ref (eq) or differs from it (!eq). */
static uint32_t await_word(uint32_t *w, uint32_t ref, int eq)
{
	uint32_t raw;
	for (int i = 0; i < wp.yields; i++) {
		if (ready(raw = load(w), ref, eq))
			return raw & VALUE;
		sched_yield();
		for (int j = 0; j < wp.pauses; j++) {
			if (ready(raw = load(w), ref, eq))
				return raw & VALUE;
			cpu_relax();
		}
	}
	for (;;) {
		raw = load(w);
		if (ready(raw, ref, eq))
			return raw & VALUE;
		if (wp.elide && !(raw & SLEEPING)) {
			if (!__atomic_compare_exchange_n(w, &raw, raw | SLEEPING, 0, __ATOMIC_SEQ_CST,
			                                 __ATOMIC_SEQ_CST))
				continue;
			raw |= SLEEPING;
		}
		futex_wait(w, raw);
	}
}

/* Wait until the word differs from 'last'; return the new value. */
static uint32_t await_change(uint32_t *w, uint32_t last) { return await_word(w, last, 0); }

/* Wait until the word equals 'want'. */
static void await_value(uint32_t *w, uint32_t want) { await_word(w, want, 1); }

static void read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t r = read(fd, p, len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (r == 0)
			die("read: unexpected EOF");
		p += r;
		len -= (size_t)r;
	}
}

static void write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t r = write(fd, p, len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += r;
		len -= (size_t)r;
	}
}

/* ---- shared page ----------------------------------------------------- */

/* Every doorbell word on its own cache line. */
struct shm {
	uint32_t stop __attribute__((aligned(64)));
	uint32_t c2s __attribute__((aligned(64))); /* client -> server, or client -> relay */
	uint32_t s2c __attribute__((aligned(64))); /* server -> client, or relay -> client */
	uint32_t r2s __attribute__((aligned(64))); /* relay -> server */
	uint32_t s2r __attribute__((aligned(64))); /* server -> relay */
};

struct ctx {
	enum kind kind;
	struct shm *shm;
	uint32_t seq;
	int fd_w, fd_r;    /* client's ends (pipe / socket) */
	pid_t pids[2];
	int npids;
	int fifo;          /* this process switched to SCHED_FIFO for the case */
};

/* ---- children -------------------------------------------------------- */

static void child_setup(void)
{
	/* Never outlive the measuring process. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die("prctl");
}

static void futex_server(struct shm *s, uint32_t *in, uint32_t *out)
{
	uint32_t last = 0;
	for (;;) {
		last = await_change(in, last);
		if (load(&s->stop))
			_exit(0);
		post(out, last);
	}
}

static void futex_relay(struct shm *s)
{
	uint32_t last = 0;
	for (;;) {
		last = await_change(&s->c2s, last);
		post(&s->r2s, last); /* on stop this also tells the server */
		if (load(&s->stop))
			_exit(0);
		await_value(&s->s2r, last);
		post(&s->s2c, last);
	}
}

/* relay2: one thread per direction, as amber-core's per-thread entry threads. */
static void *relay2_call(void *arg)
{
	struct shm *s = arg;
	uint32_t last = 0;
	for (;;) {
		last = await_change(&s->c2s, last);
		post(&s->r2s, last); /* on stop this also tells the server */
		if (load(&s->stop))
			return NULL;
	}
}

static void *relay2_reply(void *arg)
{
	struct shm *s = arg;
	uint32_t last = 0;
	for (;;) {
		last = await_change(&s->s2r, last);
		if (load(&s->stop))
			return NULL;
		post(&s->s2c, last);
	}
}

static void futex_relay2(struct shm *s)
{
	pthread_t t[2];
	if (pthread_create(&t[0], NULL, relay2_call, s) ||
	    pthread_create(&t[1], NULL, relay2_reply, s)) {
		fprintf(stderr, "raw_ipc: pthread_create failed\n");
		_exit(1);
	}
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	_exit(0);
}

static void stream_server(int fd_r, int fd_w)
{
	uint64_t msg;
	for (;;) {
		ssize_t r = read(fd_r, &msg, sizeof msg);
		if (r == 0)
			_exit(0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("server read");
		}
		if ((size_t)r < sizeof msg)
			read_full(fd_r, (char *)&msg + r, sizeof msg - (size_t)r);
		write_full(fd_w, &msg, sizeof msg);
	}
}

static pid_t spawn(void)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		child_setup();
	return pid;
}

/* 0, or -1 if the case cannot run here (SCHED_FIFO not permitted). */
static int ctx_start(struct ctx *c, enum kind k)
{
	memset(c, 0, sizeof *c);
	c->kind = k;
	c->fd_w = c->fd_r = -1;
	memset(&wp, 0, sizeof wp);
	if (has_yield(k)) {
		cpu_set_t m;
		if (sched_getaffinity(0, sizeof m, &m) < 0)
			die("sched_getaffinity");
		wp.elide = 1;
		if (CPU_COUNT(&m) > 1) {
			wp.yields = YIELD_SPIN_ROUNDS;
			wp.pauses = YIELD_SPIN_PAUSES;
		} else {
			wp.yields = 1;
		}
	}
	if (k == K_FUTEX_FIFO) {
		struct sched_param sp = { .sched_priority = 1 };
		if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) {
			if (!opt_quiet)
				fprintf(stderr, "  %-12s skipped: SCHED_FIFO: %s\n", kind_name[k],
				        strerror(errno));
			return -1;
		}
		c->fifo = 1; /* the children inherit it */
	}
	if (is_futex(k)) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		c->shm = p;
		int shape = relay_shape(k);
		pid_t pid = spawn();
		if (pid == 0) {
			if (!shape)
				futex_server(c->shm, &c->shm->c2s, &c->shm->s2c);
			else
				futex_server(c->shm, &c->shm->r2s, &c->shm->s2r);
		}
		c->pids[c->npids++] = pid;
		if (shape) {
			pid = spawn();
			if (pid == 0) {
				if (shape == 1)
					futex_relay(c->shm);
				else
					futex_relay2(c->shm);
			}
			c->pids[c->npids++] = pid;
		}
		return 0;
	}
	switch (k) {
	case K_PIPE: {
		int req[2], rsp[2];
		if (pipe(req) < 0 || pipe(rsp) < 0)
			die("pipe");
		pid_t pid = spawn();
		if (pid == 0) {
			close(req[1]);
			close(rsp[0]);
			stream_server(req[0], rsp[1]);
		}
		close(req[0]);
		close(rsp[1]);
		c->fd_w = req[1];
		c->fd_r = rsp[0];
		c->pids[c->npids++] = pid;
		break;
	}
	case K_SOCKET: {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			die("socketpair");
		pid_t pid = spawn();
		if (pid == 0) {
			close(sv[0]);
			stream_server(sv[1], sv[1]);
		}
		close(sv[1]);
		c->fd_w = c->fd_r = sv[0];
		c->pids[c->npids++] = pid;
		break;
	}
	default:
		abort();
	}
	return 0;
}

static void ctx_stop(struct ctx *c)
{
	if (c->shm) {
		store(&c->shm->stop, 1);
		post(&c->shm->c2s, ++c->seq & VALUE);
		if (relay_shape(c->kind) == 2) /* wake the reply thread too */
			post(&c->shm->s2r, ++c->seq & VALUE);
	} else {
		close(c->fd_w);
		if (c->fd_r != c->fd_w)
			close(c->fd_r);
	}
	for (int i = 0; i < c->npids; i++) {
		int st;
		if (waitpid(c->pids[i], &st, 0) < 0)
			die("waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "raw_ipc: %s child failed (status %#x)\n", kind_name[c->kind], st);
			exit(1);
		}
	}
	if (c->shm)
		munmap(c->shm, 4096);
	if (c->fifo) {
		struct sched_param sp = { .sched_priority = 0 };
		if (sched_setscheduler(0, SCHED_OTHER, &sp) < 0)
			die("sched_setscheduler");
	}
}

/* n round trips from the client (this process). */
static void round_trips(struct ctx *c, long n)
{
	if (c->shm) {
		struct shm *s = c->shm;
		for (long i = 0; i < n; i++) {
			uint32_t v = ++c->seq & VALUE;
			if (v == 0) /* 0 is the initial value: skip it */
				v = ++c->seq & VALUE;
			post(&s->c2s, v);
			await_value(&s->s2c, v);
		}
	} else {
		for (long i = 0; i < n; i++) {
			uint64_t msg = ++c->seq, rsp;
			write_full(c->fd_w, &msg, sizeof msg);
			read_full(c->fd_r, &rsp, sizeof rsp);
			if (rsp != msg) {
				fprintf(stderr, "raw_ipc: bad reply\n");
				exit(1);
			}
		}
	}
}

/* ---- measurement ----------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void set_placement(enum placement p)
{
	cpu_set_t m;
	if (p == P_PINNED) {
		CPU_ZERO(&m);
		CPU_SET(opt_cpu, &m);
	} else {
		m = start_mask;
	}
	if (sched_setaffinity(0, sizeof m, &m) < 0)
		die("sched_setaffinity");
}

/* Median ns per round trip for one case (0 if skipped); children inherit the
 * placement. */
static double measure(enum kind k, enum placement p)
{
	struct ctx c;
	double per_rep[64];
	long n = opt_n;

	set_placement(p);
	alarm(60); /* watchdog: a lost wake-up must not hang the benchmark */
	if (ctx_start(&c, k) < 0) {
		alarm(0);
		return 0;
	}

	/* Warm-up: ~20 ms or 200 round trips, whichever is longer. */
	uint64_t t0 = now_ns();
	long warm = 0;
	while (warm < 200 || now_ns() - t0 < 20000000u) {
		round_trips(&c, 50);
		warm += 50;
	}

	if (n <= 0) {
		/* Calibrate over ~40 ms. */
		long cal = 0;
		t0 = now_ns();
		uint64_t el;
		do {
			round_trips(&c, 50);
			cal += 50;
		} while ((el = now_ns() - t0) < 40000000u);
		double per = (double)el / (double)cal;
		n = (long)(opt_target * 1e9 / per);
		if (n < 100)
			n = 100;
	}

	for (int r = 0; r < opt_reps; r++) {
		t0 = now_ns();
		round_trips(&c, n);
		per_rep[r] = (double)(now_ns() - t0) / (double)n;
	}
	ctx_stop(&c);
	alarm(0);

	qsort(per_rep, (size_t)opt_reps, sizeof per_rep[0], cmp_double);
	double med = opt_reps % 2 ? per_rep[opt_reps / 2]
	                          : (per_rep[opt_reps / 2 - 1] + per_rep[opt_reps / 2]) / 2;
	if (!opt_quiet && opt_best < 0)
		fprintf(stderr, "  %-12s %-8s n=%-8ld reps=%d  min %.0f  median %.0f  max %.0f ns\n",
		        kind_name[k], placement_name[p], n, opt_reps, per_rep[0], med,
		        per_rep[opt_reps - 1]);
	return med;
}

/* ---- main ------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: raw_ipc [options]\n"
	        "  -n, --rounds N        round trips per repetition (default: calibrate)\n"
	        "  -r, --reps R          repetitions per case, median reported (default 5, max 64)\n"
	        "  -t, --target SEC      seconds per repetition when calibrating (default 0.25)\n"
	        "  -c, --cpu CPU         CPU for the pinned placement (default 0)\n"
	        "  -k, --cases LIST      comma list of futex,pipe,socket,futex-yield,futex-fifo,\n"
	        "                        relay,relay-yield,relay2,relay2-yield (default all)\n"
	        "  -p, --placement P     pinned, unpinned or both (default both)\n"
	        "  -q, --quiet           no per-case progress on stderr\n"
	        "      --best P          print only the fastest non-relay floor for placement P, in ns\n"
	        "  -h, --help\n");
}

static int parse_placement(const char *s)
{
	for (int p = 0; p < P_COUNT; p++)
		if (strcmp(s, placement_name[p]) == 0)
			return p;
	fprintf(stderr, "raw_ipc: unknown placement '%s'\n", s);
	exit(2);
}

static unsigned parse_kinds(const char *s)
{
	unsigned mask = 0;
	char *dup = strdup(s), *save = NULL;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int k;
		for (k = 0; k < K_COUNT; k++)
			if (strcmp(t, kind_name[k]) == 0)
				break;
		if (k == K_COUNT) {
			fprintf(stderr, "raw_ipc: unknown case '%s'\n", t);
			exit(2);
		}
		mask |= 1u << k;
	}
	free(dup);
	return mask;
}

static const char *need_arg(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "raw_ipc: %s needs an argument\n", argv[*i]);
		exit(2);
	}
	return argv[++*i];
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-n") || !strcmp(a, "--rounds"))
			opt_n = atol(need_arg(argc, argv, &i));
		else if (!strcmp(a, "-r") || !strcmp(a, "--reps"))
			opt_reps = atoi(need_arg(argc, argv, &i));
		else if (!strcmp(a, "-t") || !strcmp(a, "--target"))
			opt_target = atof(need_arg(argc, argv, &i));
		else if (!strcmp(a, "-c") || !strcmp(a, "--cpu"))
			opt_cpu = atoi(need_arg(argc, argv, &i));
		else if (!strcmp(a, "-k") || !strcmp(a, "--cases"))
			opt_kinds = parse_kinds(need_arg(argc, argv, &i));
		else if (!strcmp(a, "-p") || !strcmp(a, "--placement")) {
			const char *p = need_arg(argc, argv, &i);
			opt_places = !strcmp(p, "both") ? (1u << P_COUNT) - 1 : 1u << parse_placement(p);
		} else if (!strcmp(a, "--best"))
			opt_best = parse_placement(need_arg(argc, argv, &i));
		else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
			opt_quiet = 1;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (opt_reps < 1 || opt_reps > 64 || opt_target <= 0 || opt_n < 0 || opt_cpu < 0 ||
	    opt_cpu >= CPU_SETSIZE) {
		fprintf(stderr, "raw_ipc: bad option value\n");
		return 2;
	}
	if (sched_getaffinity(0, sizeof start_mask, &start_mask) < 0)
		die("sched_getaffinity");
	if (opt_best >= 0) {
		opt_places = 1u << opt_best;
		opt_kinds &= ~relay_mask();
		if (!opt_kinds) {
			fprintf(stderr, "raw_ipc: --best needs a non-relay case\n");
			return 2;
		}
	}
	if ((opt_places & (1u << P_UNPINNED)) && CPU_COUNT(&start_mask) < 2)
		fprintf(stderr, "raw_ipc: warning: started with a single-CPU mask; "
		                "\"unpinned\" is effectively pinned\n");

	double res[K_COUNT][P_COUNT] = { { 0 } };
	double best[P_COUNT] = { 0 };
	for (int p = 0; p < P_COUNT; p++) {
		if (!(opt_places & (1u << p)))
			continue;
		for (int k = 0; k < K_COUNT; k++) {
			if (!(opt_kinds & (1u << k)))
				continue;
			res[k][p] = measure((enum kind)k, (enum placement)p);
			if (res[k][p] <= 0)
				continue; /* skipped */
			if (!is_relay(k) && (best[p] == 0 || res[k][p] < best[p]))
				best[p] = res[k][p];
			if (opt_best < 0) {
				printf("raw %s %s %.0f ns\n", kind_name[k], placement_name[p], res[k][p]);
				fflush(stdout);
			}
		}
	}
	set_placement(P_UNPINNED);

	if (opt_best >= 0) {
		printf("%.0f\n", best[opt_best]);
		return 0;
	}
	for (int p = 0; p < P_COUNT; p++)
		if (best[p] > 0)
			printf("raw best %s %.0f ns\n", placement_name[p], best[p]);

	printf("# raw Linux cross-process round trip, median ns (%d reps; pinned = CPU %d, "
	       "unpinned = %d CPUs)\n", opt_reps, opt_cpu, CPU_COUNT(&start_mask));
	printf("#   %-12s %10s %10s\n", "case", "pinned", "unpinned");
	for (int k = 0; k < K_COUNT; k++) {
		if (!(opt_kinds & (1u << k)))
			continue;
		printf("#   %-12s", kind_name[k]);
		for (int p = 0; p < P_COUNT; p++) {
			if (res[k][p] > 0)
				printf(" %10.0f", res[k][p]);
			else
				printf(" %10s", "-");
		}
		printf("\n");
	}
	printf("#   %-12s", "floor");
	for (int p = 0; p < P_COUNT; p++) {
		if (best[p] > 0)
			printf(" %10.0f", best[p]);
		else
			printf(" %10s", "-");
	}
	printf("   (fastest non-relay)\n");
	if ((opt_kinds & (1u << K_RELAY)) && (opt_kinds & (1u << K_FUTEX)))
		for (int p = 0; p < P_COUNT; p++)
			if (res[K_RELAY][p] > 0 && res[K_FUTEX][p] > 0)
				printf("#   relay/futex %s: %.2fx\n", placement_name[p],
				       res[K_RELAY][p] / res[K_FUTEX][p]);
	for (int k = 0; k < K_COUNT; k++) {
		if (!is_relay(k) || !(opt_kinds & (1u << k)))
			continue;
		printf("#   %-12s / floor:", kind_name[k]);
		for (int p = 0; p < P_COUNT; p++)
			if (res[k][p] > 0 && best[p] > 0)
				printf("  %s %.2fx", placement_name[p], res[k][p] / best[p]);
		printf("\n");
	}
	return 0;
}
