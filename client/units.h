/* units.h — human units for skillboxctl: sizes ("512M", "1.5G") and durations
 * ("250ms", "30s", "1.5m"), parsing and formatting.
 *
 * Parsers are strict: the whole string must match, no sign, no spaces.
 * They return 0, -EINVAL (not a valid value) or -ERANGE (does not fit).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Bytes. A number with an optional binary prefix K, M, G, T (1024-based, any
 * case) and an optional B or iB ("512", "512K", "1.5G", "2GiB", "64B").
 * A fraction needs a prefix and is truncated to whole bytes; "1.5" is invalid. */
int sbctl_parse_size(const char *s, uint64_t *out);

/* Milliseconds. A number with a unit ms, s, m (minutes), min or h; a plain
 * number is seconds ("250ms", "30s", "1.5m", "2h", "10"). Fractions of a
 * millisecond are truncated, except that "0.5ms" is invalid. */
int sbctl_parse_duration_ms(const char *s, uint64_t *out);

/* A plain decimal integer in [0, max]. */
int sbctl_parse_uint(const char *s, uint64_t max, uint64_t *out);

/* "512B", "1.5K", "512M", "2.0G" (one decimal above 1 KiB). */
void sbctl_format_size(uint64_t bytes, char *buf, size_t len);

/* "250ms", "1.5s", "2m05s", "1h02m". */
void sbctl_format_duration(uint64_t ms, char *buf, size_t len);
