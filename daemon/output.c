/* output.c — the per-job output cap as a pure function of the bytes read.
 *
 * Invariants: admitted <= max (when max != 0); admitted == max as soon as
 * read > max; the cap's action is reported exactly once. "Passing" the cap
 * means reading more than max bytes: a job that writes exactly max bytes
 * is not limited. Counting saturates instead of wrapping.
 */
#include "daemon/output.h"

void sbd_output_init(struct sbd_output *o, uint64_t max, bool truncate)
{
        o->max = max;
        o->truncate = truncate;
        o->read = 0;
        o->admitted = 0;
        o->passed = false;
}

size_t sbd_output_admit(struct sbd_output *o, size_t n, enum sbd_output_action *action)
{
        uint64_t room;

        *action = SBD_OUTPUT_DELIVER;
        o->read = o->read > UINT64_MAX - n ? UINT64_MAX : o->read + n;
        if (o->max == 0) {
                o->admitted += n;
                return n;
        }
        if (o->passed)
                return 0;
        room = o->max - o->admitted;
        if (o->read > o->max) {
                o->passed = true;
                *action = o->truncate ? SBD_OUTPUT_TRUNCATE : SBD_OUTPUT_KILL;
        }
        if ((uint64_t)n > room)
                n = (size_t)room;
        o->admitted += n;
        return n;
}

bool sbd_output_capped(const struct sbd_output *o)
{
        return o->max != 0 && o->admitted >= o->max;
}
