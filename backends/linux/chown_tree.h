/* chown_tree.h — the ownership fix-up of a client's directory after a job
 * (chown_tree.c). Linux (openat2); the posix backend uses it there too. */
#pragma once

#include <sys/types.h>

/* Give the files the job uid owns below dirfd to the client. Never follows
 * a symlink, never crosses a mount, changes only entries owned by
 * from_uid. Returns 0 or the first error (it goes on past errors). */
int sb_backend_chown_tree(int dirfd, uid_t from_uid, gid_t from_gid, uid_t to_uid, gid_t to_gid);
