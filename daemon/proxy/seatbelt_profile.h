/* seatbelt_profile.h — the Seatbelt (SBPL) profile skillbox-proxy applies
 * to itself on macOS (harden_darwin.c), after dropping to its uid.
 *
 * Pure code (no system call), so it is built on every host and its text is
 * golden-tested on Linux (tests/unit/test_proxy_seatbelt.c). The text is
 * the same on every host: it names only fixed system paths and Mach
 * services, never a value from the daemon, a job or the host, so it takes
 * no parameters.
 */
#pragma once

#include <stddef.h>

#define PROXY_SEATBELT_TEXT_MAX 4096

/* The profile into buf: 0, or -E2BIG when len is too short (buf then
 * holds a truncated, NUL-terminated text that must not be applied). */
int proxy_seatbelt_profile(char *buf, size_t len);
