/*
 * What core checks in an image before it restores anything: the rules of
 * a running system that image_check (image/, the file's own consistency)
 * does not know. cr_restore and cr_boot call it right after image_read;
 * the image fuzzer (tests/fuzz/fuzz_image.c) calls it without a running
 * core. Everything here depends on the image alone, not on live state:
 * what needs that (the object ids free, the parent's quotas, this
 * machine's XSAVE size) is checked as the restore goes.
 */
#ifndef AMBER_CORE_CR_VALIDATE_H
#define AMBER_CORE_CR_VALIDATE_H

#include <stddef.h>

#include "image/amber_image.pb-c.h"

/* 0, or -1 with one line in err naming the component, the record and the
 * reason: "component 2 (init -> a): segment 1: [0x1000, +0x2000) lies
 * outside the ELF image area [0x1000000, 0x40000000)". img must have
 * passed image_check. */
int cr_image_validate(const AmberImg__Image *img, char *err, size_t errlen);

#endif
