/* work_keep_none.c — keep_work where no /work can be handed over by
 * descriptor (Windows): exec with keep_work is refused with Unsupported,
 * and no job ever keeps one (work_keep.h).
 */
#include <errno.h>

#include "daemon/job.h"
#include "daemon/work_keep.h"

int sbd_work_keep_admit(struct sbd_conn *c, const struct sbp_exec_params *p,
                        struct sbp_error *err)
{
        (void)c;
        if (!p->keep_work)
                return 0;
        return sbp_error_set(err, SBP_E_UNSUPPORTED, "keep_work: this platform cannot hand a "
                             "/work over");
}

void sbd_work_keep_take(struct sbd_job *j)
{
        (void)j;
}

void sbd_work_keep_drop(struct sbd_job *j)
{
        (void)j;
}

int sbd_work_keep_reply(struct sbd_conn *c, uint32_t msgid, struct sbd_job *j,
                        struct sbp_error *err)
{
        (void)c;
        (void)msgid;
        return sbp_error_set(err, SBP_E_NOT_FOUND, "job %s: kept no /work (this platform "
                             "keeps none)", j->id);
}
