/*
 * What userfaultfd's asynchronous write-protection and PAGEMAP_SCAN need
 * from <linux/userfaultfd.h> and <linux/fs.h> (Linux 6.7), for headers
 * older than the kernel they run on (Debian 12's are 6.1). A kernel
 * without them refuses UFFDIO_API with these features, and core then
 * tracks written pages the synchronous way (core/cr_copy.c).
 */
#ifndef AMBER_PLATFORM_UFFD_COMPAT_H
#define AMBER_PLATFORM_UFFD_COMPAT_H

#include <linux/fs.h>
#include <linux/types.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>

#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif

#ifndef PAGEMAP_SCAN
#define PAGE_IS_WRITTEN (1 << 1)
struct page_region {
	__u64 start, end, categories;
};
#define PM_SCAN_WP_MATCHING (1 << 0)
#define PM_SCAN_CHECK_WPASYNC (1 << 1)
struct pm_scan_arg {
	__u64 size, flags, start, end, walk_end, vec, vec_len, max_pages;
	__u64 category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

#endif
