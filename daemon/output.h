/* output.h — the per-job output cap: how much of each chunk read from a
 * job's stdout/stderr pipes may be delivered, and what happens past the cap.
 * Pure bookkeeping (no I/O), unit-tested in tests/unit/test_output.c.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the caller must do with a chunk after sbd_output_admit(). */
enum sbd_output_action {
        SBD_OUTPUT_DELIVER = 0,   /* deliver the admitted bytes; nothing else */
        SBD_OUTPUT_TRUNCATE,      /* the cap was just passed: mark the result truncated */
        SBD_OUTPUT_KILL,          /* the cap was just passed: end the job (output_limit) */
};

struct sbd_output {
        uint64_t max;        /* stdout + stderr bytes; 0 = unlimited */
        bool truncate;       /* past max: drop output (true) or end the job (false) */
        uint64_t read;       /* bytes read from both pipes, delivered or not */
        uint64_t admitted;   /* bytes delivered (<= max when max != 0) */
        bool passed;         /* read > max: the action was returned once */
};

void sbd_output_init(struct sbd_output *o, uint64_t max, bool truncate);

/* n bytes were just read from one of the job's pipes. Returns how many of
 * them (from the start of the chunk) may be delivered and sets *action.
 * Invariant: the sum of all admitted counts never exceeds max, and reaches
 * exactly max once more than max bytes were read. TRUNCATE or KILL is
 * returned once, on the chunk that passes the cap; later chunks are admitted
 * nothing with action DELIVER. */
size_t sbd_output_admit(struct sbd_output *o, size_t n, enum sbd_output_action *action);

/* True once nothing more will be delivered: reading the pipes only drains
 * them, so it must not wait for a slow client (backpressure). */
bool sbd_output_capped(const struct sbd_output *o);
