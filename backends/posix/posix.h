/* posix.h — internals of the posix backend. */
#pragma once

#include <sys/types.h>

/* A pollable fd readable once pid has exited; -ENOSYS where unsupported. */
int sb_posix_exit_fd_open(pid_t pid);
