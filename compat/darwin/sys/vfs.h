/* sys/vfs.h — statfs() and fstatfs(): on macOS they are in sys/mount.h,
 * with the same f_blocks, f_bfree and f_bsize. */
#pragma once

#include <sys/param.h>
#include <sys/mount.h>
