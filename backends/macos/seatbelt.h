/* seatbelt.h — a job's policy as a macOS Seatbelt (SBPL) profile.
 *
 * Pure code: no system call, no allocation, so it is unit-tested on any
 * host (golden files in tests/unit/golden/) and the macOS backend builds
 * the profile in the daemon, before the fork, and only hands the child the
 * finished text and parameters.
 *
 * The text depends on the policy alone (its network mode and how many
 * read-only paths it names) and, for network allowlist, on the proxy's
 * port, a number written by the generator; every path is a parameter the
 * text refers to with (param "NAME"). So no host path is ever spliced into
 * SBPL (a quote in a path cannot end a string and add a rule), and the
 * same policy and port give the same text on every host. Seatbelt matches resolved paths: the
 * parameters hold canonical ones (/private/var, never /var).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"

#define SB_SEATBELT_TEXT_MAX 8192
/* Parameters: the system's readable paths, the policy's read-only paths
 * (SB_POLICY_BIND_RO_MAX) and the job's directories. */
#define SB_SEATBELT_PARAMS_MAX 40
#define SB_SEATBELT_STRINGS_MAX (SB_POLICY_BIND_RO_BYTES + 4096)

/* The job's own directories on the host, absolute; writable by the job and
 * by no other. home may be NULL (the job's HOME is then work). */
struct sb_seatbelt_dirs {
        const char *work;
        const char *tmp;
        const char *home;
};

/* A finished profile. params is what sandbox_init_with_parameters() takes:
 * name, value, name, value, ..., NULL; its strings live in the struct
 * itself, so the struct is filled in place and never copied. */
struct sb_seatbelt {
        char text[SB_SEATBELT_TEXT_MAX];
        const char *params[2 * SB_SEATBELT_PARAMS_MAX + 1];
        uint32_t n_params;
        char strings[SB_SEATBELT_STRINGS_MAX];
        size_t strings_used;
};

/* The Mach services every job may look up: the system log, notifications
 * and the directory service's user and group lookups (getpwuid). NULL-
 * terminated. The network mode "host" adds DNS (mDNSResponder). */
extern const char *const sb_seatbelt_mach_services[];

/* The system paths a job may read and execute from, canonical. */
extern const char *const sb_seatbelt_system_paths[];

/* Canonical form of an absolute, normalized path for Seatbelt: /var, /tmp
 * and /etc are symbolic links into /private on macOS and the kernel
 * matches the resolved path. 0, or -EINVAL (relative, "." or ".." parts,
 * "//", a trailing '/' other than "/" itself), or -ENAMETOOLONG. */
int sb_seatbelt_canonical_path(const char *path, char *out, size_t len);

/* Build the profile for policy p and the job's directories. proxy_port:
 * for network allowlist, the port on the host's loopback where the job's
 * egress proxy listens, the one place the job may connect to (ignored for
 * the other modes). 0, or -EOPNOTSUPP with the reason in errbuf when the
 * policy asks what Seatbelt cannot give (a read-only path at another place
 * than its source: macOS has no mount namespace), -EINVAL (a path
 * sb_seatbelt_canonical_path() refuses, or allowlist with port 0), -E2BIG
 * (past a buffer's bound). */
int sb_seatbelt_build(const struct sb_policy *p, const struct sb_seatbelt_dirs *dirs,
                      uint16_t proxy_port, struct sb_seatbelt *out, char *errbuf,
                      size_t errlen);
