/* proxy_ctl.c — building, sending, receiving and checking control records
 * of skillbox-proxy (proxy_msg.h). Used by the daemon as the client and by
 * the proxy (ctl.c) for the checks, so both read the wire the same way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/proxy/allow.h"
#include "daemon/proxy/proxy_ctl.h"

bool sbd_proxy_job_id_valid(const char *id)
{
        size_t n = strnlen(id, SBD_PROXY_JOB_ID_SIZE);

        if (n == 0 || n >= SBD_PROXY_JOB_ID_SIZE)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = id[i];

                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      c == '-' || c == '_'))
                        return false;
        }
        return true;
}

void sbd_proxy_hdr_init(struct sbd_proxy_hdr *hdr, enum sbd_proxy_msg_type type,
                        const char *job_id)
{
        memset(hdr, 0, sizeof(*hdr));
        hdr->magic = SBD_PROXY_MAGIC;
        hdr->version = SBD_PROXY_VERSION;
        hdr->type = (uint16_t)type;
        strncpy(hdr->job_id, job_id, sizeof(hdr->job_id) - 1);
}

static bool terminated(const char *s, size_t size)
{
        return memchr(s, '\0', size) != NULL;
}

static size_t size_of_type(unsigned type)
{
        switch (type) {
        case SBD_PROXY_MSG_ADD:
                return sizeof(struct sbd_proxy_add);
        case SBD_PROXY_MSG_REMOVE:
                return sizeof(struct sbd_proxy_remove);
        case SBD_PROXY_MSG_REPLY:
                return sizeof(struct sbd_proxy_reply);
        case SBD_PROXY_MSG_DENIED:
                return sizeof(struct sbd_proxy_denied);
        }
        return 0;
}

int sbd_proxy_msg_check(const void *buf, size_t len)
{
        struct sbd_proxy_hdr hdr;

        if (len < sizeof(hdr))
                return -EBADMSG;
        memcpy(&hdr, buf, sizeof(hdr));
        if (hdr.magic != SBD_PROXY_MAGIC)
                return -EBADMSG;
        if (hdr.version != SBD_PROXY_VERSION)
                return -EPROTO;
        if (size_of_type(hdr.type) == 0 || size_of_type(hdr.type) != len)
                return -EBADMSG;
        if (!sbd_proxy_job_id_valid(hdr.job_id))
                return -EBADMSG;
        if (hdr.type == SBD_PROXY_MSG_ADD) {
                const struct sbd_proxy_add *m = buf;

                if (m->n_entries > SBD_PROXY_ENTRIES_MAX)
                        return -EBADMSG;
                for (uint32_t i = 0; i < m->n_entries; i++)
                        if (!terminated(m->entries[i], SBD_PROXY_ENTRY_SIZE))
                                return -EBADMSG;
        } else if (hdr.type == SBD_PROXY_MSG_REPLY) {
                const struct sbd_proxy_reply *m = buf;

                if (!terminated(m->message, sizeof(m->message)) || m->error > 0)
                        return -EBADMSG;
        } else if (hdr.type == SBD_PROXY_MSG_DENIED) {
                const struct sbd_proxy_denied *m = buf;

                if (!terminated(m->host, sizeof(m->host)))
                        return -EBADMSG;
        }
        return hdr.type;
}

static int send_record(int fd, const void *buf, size_t len, int pass_fd)
{
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } control;
        struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n;

        if (pass_fd >= 0) {
                struct cmsghdr *c;

                memset(&control, 0, sizeof(control));
                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof(control.buf);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
        }
        do
                n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return (size_t)n == len ? 0 : -EMSGSIZE;
}

int sbd_proxy_ctl_add(int ctl_fd, const char *job_id, const char *const *entries, size_t n,
                      int listen_fd)
{
        struct sbd_proxy_add *m;
        struct allow_entry e;
        int r;

        if (!sbd_proxy_job_id_valid(job_id) || listen_fd < 0)
                return -EINVAL;
        if (n > SBD_PROXY_ENTRIES_MAX)
                return -E2BIG;
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        sbd_proxy_hdr_init(&m->hdr, SBD_PROXY_MSG_ADD, job_id);
        m->n_entries = (uint32_t)n;
        for (size_t i = 0; i < n; i++) {
                if (strlen(entries[i]) >= SBD_PROXY_ENTRY_SIZE ||
                    allow_entry_parse(entries[i], &e) < 0) {
                        free(m);
                        return -EINVAL;
                }
                strcpy(m->entries[i], entries[i]);
        }
        r = send_record(ctl_fd, m, sizeof(*m), listen_fd);
        free(m);
        return r;
}

int sbd_proxy_ctl_remove(int ctl_fd, const char *job_id)
{
        struct sbd_proxy_remove m;

        if (!sbd_proxy_job_id_valid(job_id))
                return -EINVAL;
        sbd_proxy_hdr_init(&m.hdr, SBD_PROXY_MSG_REMOVE, job_id);
        return send_record(ctl_fd, &m, sizeof(m), -1);
}

static void close_passed_fds(struct msghdr *mh)
{
        for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < nfd; i++) {
                        int fd;

                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        close(fd);
                }
        }
}

int sbd_proxy_ctl_recv(int ctl_fd, struct sbd_proxy_event *ev)
{
        /* Replies and reports only: anything larger is refused by size. */
        union {
                struct sbd_proxy_reply reply;
                struct sbd_proxy_denied denied;
                char raw[sizeof(struct sbd_proxy_denied) + 1];
        } u;
        union {
                char buf[CMSG_SPACE(sizeof(int) * 4)];
                struct cmsghdr align;
        } control;
        struct iovec iov = {.iov_base = &u, .iov_len = sizeof(u)};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = control.buf, .msg_controllen = sizeof(control.buf)};
        ssize_t n;
        int type;

        do
                n = recvmsg(ctl_fd, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -ECONNRESET;
        /* The proxy never sends fds; any that came are not kept. */
        close_passed_fds(&mh);
        if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
                return -EBADMSG;
        type = sbd_proxy_msg_check(&u, (size_t)n);
        if (type < 0)
                return type;
        memset(ev, 0, sizeof(*ev));
        ev->type = (enum sbd_proxy_msg_type)type;
        memcpy(ev->job_id, u.reply.hdr.job_id, sizeof(ev->job_id));
        if (type == SBD_PROXY_MSG_REPLY) {
                ev->error = u.reply.error;
                memcpy(ev->message, u.reply.message, sizeof(ev->message));
        } else if (type == SBD_PROXY_MSG_DENIED) {
                ev->port = u.denied.port;
                ev->count = u.denied.count;
                memcpy(ev->host, u.denied.host, sizeof(ev->host));
        } else {
                return -EBADMSG; /* ADD and REMOVE go the other way */
        }
        return 0;
}
