/*
 * The launcher's fixed addresses, shared by core and the launcher build.
 *
 * Every component process starts as an exec of amber-launch: a static,
 * non-PIE, libc-free binary linked far above the component areas so it
 * never collides with a dataspace. Core never lets it run; the process is
 * seized before execve and stops at PTRACE_EVENT_EXEC. Core then uses two
 * things the launcher provides at addresses fixed here (and asserted in
 * launcher.ld, and checked by core at run time):
 *
 *   LAUNCHER_SYSCALL_ADDR   the bytes `syscall; int3`, the gadget for the
 *                           first injected system calls, before core's
 *                           trampoline page is mapped;
 *   LAUNCHER_SCRATCH_ADDR   a writable .bss area where core puts data that
 *                           those calls take by pointer (the seccomp BPF
 *                           program, the process name).
 *
 * Both disappear when core unmaps the launcher during process setup.
 * This file is included by launcher.S, so it must stay preprocessor-only.
 */
#ifndef AMBER_PLATFORM_LAUNCHER_H
#define AMBER_PLATFORM_LAUNCHER_H

#define LAUNCHER_BASE 0x7e0000000000
#define LAUNCHER_SYSCALL_ADDR 0x7e0000000000 /* syscall (0f 05); int3 (cc) */
#define LAUNCHER_SCRATCH_ADDR 0x7e0000010000
#define LAUNCHER_SCRATCH_SIZE 0x10000 /* 64 KiB */

/* The gadget's bytes, as core verifies them before the first injection. */
#define LAUNCHER_GADGET_BYTES 0xcc050fu /* little-endian: 0f 05 cc */

#endif
