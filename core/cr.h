/*
 * Checkpoint/restore of components: what the control socket and amber-core's
 * start-up call (docs/checkpoint-restore.md).
 *
 * All functions are called WITHOUT the kernel lock; they take it for the
 * atomic part only. Each returns 0, or -1 with a message for the user in
 * msg (one line, no trailing newline). On success msg may hold a summary
 * ("checkpointed init -> hello (3 components, 12 threads, 4.2 MiB) in
 * 2.1 ms pause").
 */
#ifndef AMBER_CORE_CR_H
#define AMBER_CORE_CR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct component;
struct image_key;

struct cr_options {
	bool kill;    /* checkpoint --kill: end the processes after the capture, keep their place */
	bool rollback; /* checkpoint --rollback: should it crash later, roll it back to its last image */
	bool hold_output; /* checkpoint --hold-output: LOG lines wait for the next committed checkpoint */
	bool partial; /* restore --partial: restore what can be, revoke the rest, report it */
	bool lazy;    /* restore --lazy: run at once, pages on first touch (cr_lazy.h) */
	const char *parent; /* checkpoint --parent DIR: store only what changed since that image */
	/* --key: checkpoint signs the image with it; restore accepts only an
	 * image signed with it. NULL: no signature written, none checked. */
	const struct image_key *key;
};

/* Checkpoint the component `name` and all its descendants into image
 * directory dir. `name` is a component's label ("init -> hello") or its
 * path of start names ("init/hello"). */
int cr_checkpoint(const char *name, const char *dir, const struct cr_options *o, char *msg, size_t msglen);
/* After a committed checkpoint's answer is out: its copy becomes the
 * tracker of the pages written since (for checkpoint --parent), which
 * needs the set stopped once more. Not part of the checkpoint's time: the
 * image is complete without it. Nothing to do if nothing is pending. */
void cr_checkpoint_track(void);

/* `amber release NAME`: NAME and its descendants stop holding their
 * output (checkpoint --hold-output); what they hold is printed. */
int cr_release_output(const char *name, char *msg, size_t msglen);

/* Restore the image in dir in place of the component of its root's name:
 * running, stopped by --kill, or ended after the checkpoint. */
int cr_restore(const char *dir, const struct cr_options *o, char *msg, size_t msglen);

/* A component that crashed (a fault, a forbidden call, a kill from
 * outside core) and has the rollback policy: end it quietly (its parent is
 * not told) and restore its last image. 1: rolled back, nothing more to
 * do; 0: no policy, end it as always; -1: ended, but the restore failed:
 * tell its parent. Called by the event thread, kernel lock NOT held. */
int cr_rollback_on_crash(struct component *c, const char *reason);

/* amber-core --restore DIR [--key FILE]: the image of a whole scenario (a top-level
 * component and its descendants) becomes the running system. Called once
 * at start-up instead of loading a scenario. */
int cr_boot(const char *dir, const struct image_key *key, bool lazy, char *msg, size_t msglen);

/* `amber ps`: the component tree, one line per component, written to out:
 * "ID<TAB>DEPTH<TAB>NAME<TAB>STATE<TAB>THREADS<TAB>CAPS<TAB>MEMORY_BYTES<TAB>IMAGE"
 * STATE is running, stopped (checkpoint --kill; IMAGE names its image),
 * crashed, exited or new. */
void cr_ps(FILE *out);

/* `amber stats`: what must not grow over checkpoints and restores.
 * "core<TAB>PID<TAB>RSS_KIB<TAB>FDS<TAB>THREADS<TAB>KERNEL_OBJECTS<TAB>CAPS<TAB>COMPONENTS",
 * COMPONENTS every component core keeps (ended ones too), then
 * per running component
 * "ID<TAB>NAME<TAB>PID<TAB>RSS_KIB<TAB>FDS<TAB>THREADS<TAB>CAPS"
 * (-1 for what /proc no longer has). Returns the number of components. */
size_t cr_stats(FILE *out);

#endif
