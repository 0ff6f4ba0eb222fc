/* job_ids.c — the uids jobs run as (from the backend's identity pool), job
 * ids, and finding a job as a connection may see it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "daemon/job.h"
#include "daemon/prepared.h"

/* ---- job uids: the backend's identity pool ---- */

int sbd_job_uid_alloc(struct sbd_daemon *d, uint32_t *out)
{
        return d->ops->identity_take(d->backend, out);
}

void sbd_job_uid_release(struct sbd_daemon *d, uint32_t uid)
{
        d->ops->identity_give(d->backend, uid);
}

/* ---- lookup, ids ---- */

struct sbd_job *sbd_job_find(struct sbd_daemon *d, const char *id)
{
        struct sbd_list *pos, *tmp;

        sbd_list_for_each_safe(pos, tmp, &d->jobs) {
                struct sbd_job *j = sbd_container_of(pos, struct sbd_job, node);

                if (strcmp(j->id, id) == 0)
                        return j;
        }
        return NULL;
}

struct sbd_job *sbd_job_lookup(struct sbd_daemon *d, const struct sbd_conn *c, const char *id)
{
        struct sbd_job *j = sbd_job_find(d, id);

        if (!j)
                return NULL;
        /* Another user's job does not exist for a client (no id probing). */
        if (!c->admin && j->owner_uid != (uint32_t)c->uid)
                return NULL;
        return j;
}

int sbd_job_id_new(struct sbd_daemon *d, char *id)
{
        static const char hex[] = "0123456789abcdef";
        uint8_t b[6];
        ssize_t n;
        int tries, i;

        for (tries = 0; tries < 8; tries++) {
                n = getrandom(b, sizeof(b), 0);
                if (n < 0)
                        return -errno;
                if ((size_t)n != sizeof(b))
                        return -EIO;
                for (i = 0; i < 6; i++) {
                        id[2 * i] = hex[b[i] >> 4];
                        id[2 * i + 1] = hex[b[i] & 15];
                }
                id[12] = '\0';
                if (!sbd_job_find(d, id) && !sbd_prepared_has_id(d, id))
                        return 0;
        }
        return -EEXIST;
}
