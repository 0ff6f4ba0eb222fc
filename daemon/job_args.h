/* job_args.h — a job's argv copy and environment (job_args.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "protocol/sbp.h"

/* The job's environment: the defaults with p->env over them; proxied adds
 * the proxy variables (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY, and in
 * lowercase) naming the allowlist proxy on the job's loopback. A
 * NULL-terminated array of borrowed pointers; free() only the array. NULL
 * with err set on a bad entry or no memory. */
char **sbd_job_env_build(const struct sbp_exec_params *p, const char *home, bool proxied,
                         struct sbp_error *err);

/* A deep copy of argv (NULL-terminated), NULL on no memory; and its free. */
char **sbd_job_argv_copy(char *const *argv, uint32_t argc);
void sbd_job_argv_free(char **v);

/* Cut *argv to SBP_ARGV_KEPT_MAX bytes (sets *truncated when it cut
 * anything). 0, or -1 on no memory (*argv unchanged). */
int sbd_job_argv_keep(char ***argv, uint32_t *argc, bool *truncated);
