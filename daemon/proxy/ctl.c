/* ctl.c — skillbox-proxy's control socket (proxy_msg.h): ADD and REMOVE
 * from the daemon, REPLY and DENIED back. The daemon is trusted but its
 * records are still checked (proxy_ctl.c) before use: a wrong size, magic,
 * version or a missing fd is answered with an error, never guessed at.
 * The socket closing means the daemon is gone: every job is closed and the
 * loop runs out, so the proxy exits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/proxy/proxy.h"
#include "daemon/proxy/proxy_ctl.h"

static void send_reply(struct proxy *p, const char *job_id, int error, const char *message)
{
        struct sbd_proxy_reply m;

        memset(&m, 0, sizeof(m));
        sbd_proxy_hdr_init(&m.hdr, SBD_PROXY_MSG_REPLY, sbd_proxy_job_id_valid(job_id) ? job_id : "-");
        m.error = error;
        snprintf(m.message, sizeof(m.message), "%s", message);
        /* The socket is non-blocking (uv_poll): a daemon that does not read
         * its replies loses them, and the proxy says so here. */
        if (send(p->ctl_fd, &m, sizeof(m), MSG_NOSIGNAL) < 0)
                fprintf(stderr, "skillbox-proxy: control reply: %s\n", strerror(errno));
}

void proxy_job_denied(struct proxy_job *job, const char *host, uint16_t port)
{
        struct sbd_proxy_denied m;
        struct proxy_denied_host *d = NULL;

        for (unsigned i = 0; i < job->n_denied; i++)
                if (job->denied[i].port == port && strcmp(job->denied[i].host, host) == 0)
                        d = &job->denied[i];
        if (!d && job->n_denied < PROXY_DENIED_HOSTS) {
                d = &job->denied[job->n_denied++];
                snprintf(d->host, sizeof(d->host), "%s", host);
                d->port = port;
        }
        memset(&m, 0, sizeof(m));
        sbd_proxy_hdr_init(&m.hdr, SBD_PROXY_MSG_DENIED, job->id);
        if (d) {
                d->count++;
                snprintf(m.host, sizeof(m.host), "%s", d->host);
                m.port = d->port;
                m.count = d->count;
        } else {
                m.host[0] = '*'; /* every further host:port, counted together */
                m.count = ++job->denied_other;
        }
        /* Never blocks the loop: a report lost to a full socket is made good
         * by the next one, which carries the running count. */
        (void)send(job->proxy->ctl_fd, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT);
}

static struct proxy_job *find_job(struct proxy *p, const char *id)
{
        for (struct proxy_job *j = p->jobs; j; j = j->next)
                if (!j->removed && strcmp(j->id, id) == 0)
                        return j;
        return NULL;
}

static void job_maybe_free(struct proxy_job *job)
{
        struct proxy *p = job->proxy;

        if (!job->removed || job->listener_open || job->n_conns > 0)
                return;
        for (struct proxy_job **pp = &p->jobs; *pp; pp = &(*pp)->next) {
                if (*pp == job) {
                        *pp = job->next;
                        break;
                }
        }
        p->n_jobs--;
        free(job);
}

void proxy_job_conn_gone(struct proxy_job *job)
{
        job_maybe_free(job);
}

static void on_listener_closed(uv_handle_t *h)
{
        struct proxy_job *job = h->data;

        job->listener_open = false;
        job_maybe_free(job);
}

static void job_remove(struct proxy_job *job)
{
        struct proxy_conn *c, *next;

        job->removed = true;
        for (c = job->conns; c; c = next) {
                next = proxy_conn_next(c);
                proxy_conn_close(c);
        }
        if (job->listener_open && !uv_is_closing((uv_handle_t *)&job->listener))
                uv_close((uv_handle_t *)&job->listener, on_listener_closed);
        job_maybe_free(job);
}

static void on_connection(uv_stream_t *listener, int status)
{
        struct proxy_job *job = listener->data;

        if (status < 0) {
                fprintf(stderr, "skillbox-proxy: job %s: accept: %s\n", job->id, uv_strerror(status));
                return;
        }
        proxy_conn_accept(job);
}

/* The fd must be a listening TCP socket: anything else would make the proxy
 * accept from, or talk on, something the daemon did not mean. */
static int check_listener(int fd)
{
        struct sockaddr_storage addr = {0};   /* an unbound socket may fill none of it */
        int type, listening, domain;
        socklen_t len = sizeof(int);

        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
                return -errno;
        /* The family from the address, not SO_DOMAIN: macOS has none. */
        len = sizeof(addr);
        if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
                return -errno;
        domain = addr.ss_family;
        len = sizeof(int);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
                return -errno;
        if (type != SOCK_STREAM || (domain != AF_INET && domain != AF_INET6) || !listening)
                return -ENOTSOCK;
        return 0;
}

static void handle_add(struct proxy *p, const struct sbd_proxy_add *m, int fd)
{
        struct proxy_job *job;
        char why[SBD_PROXY_MESSAGE_SIZE];
        int r;

        if (fd < 0) {
                send_reply(p, m->hdr.job_id, -EBADF, "add: no listening socket passed");
                return;
        }
        r = check_listener(fd);
        if (r < 0) {
                close(fd);
                send_reply(p, m->hdr.job_id, r, "add: the fd is not a listening TCP socket");
                return;
        }
        if (find_job(p, m->hdr.job_id)) {
                close(fd);
                send_reply(p, m->hdr.job_id, -EEXIST, "add: job already added");
                return;
        }
        if (p->n_jobs >= PROXY_JOBS_MAX) {
                close(fd);
                send_reply(p, m->hdr.job_id, -EMFILE, "add: too many jobs");
                return;
        }
        job = calloc(1, sizeof(*job));
        if (!job) {
                close(fd);
                send_reply(p, m->hdr.job_id, -ENOMEM, "add: out of memory");
                return;
        }
        job->proxy = p;
        memcpy(job->id, m->hdr.job_id, sizeof(job->id));
        for (uint32_t i = 0; i < m->n_entries; i++) {
                if (allow_entry_parse(m->entries[i], &job->allow.entries[i]) < 0) {
                        snprintf(why, sizeof(why), "add: entry %u is not host[:port]", i);
                        free(job);
                        close(fd);
                        send_reply(p, m->hdr.job_id, -EINVAL, why);
                        return;
                }
        }
        job->allow.n = m->n_entries;
        r = uv_tcp_init(p->loop, &job->listener);
        if (r < 0) {
                free(job);
                close(fd);
                send_reply(p, m->hdr.job_id, r, "add: uv_tcp_init failed");
                return;
        }
        job->listener.data = job;
        job->listener_open = true;
        job->next = p->jobs;
        p->jobs = job;
        p->n_jobs++;
        r = uv_tcp_open(&job->listener, fd);
        if (r < 0)
                close(fd);
        else
                r = uv_listen((uv_stream_t *)&job->listener, PROXY_LISTEN_BACKLOG, on_connection);
        if (r < 0) {
                job_remove(job);
                send_reply(p, m->hdr.job_id, r, "add: cannot listen on the socket");
                return;
        }
        send_reply(p, m->hdr.job_id, 0, "");
}

static void handle_remove(struct proxy *p, const struct sbd_proxy_remove *m)
{
        struct proxy_job *job = find_job(p, m->hdr.job_id);

        if (!job) {
                send_reply(p, m->hdr.job_id, -ENOENT, "remove: no such job");
                return;
        }
        job_remove(job);
        send_reply(p, m->hdr.job_id, 0, "");
}

static void shut_down(struct proxy *p)
{
        struct proxy_job *j, *next;

        for (j = p->jobs; j; j = next) {
                next = j->next;
                if (!j->removed)
                        job_remove(j);
        }
        if (p->ctl_open) {
                uv_close((uv_handle_t *)&p->ctl_poll, NULL);
                p->ctl_open = false;
        }
}

/* Takes the fds of a record: the first is returned, any others closed. */
static int take_fds(struct msghdr *mh)
{
        int first = -1;

        for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int fd;

                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (first < 0)
                                first = fd;
                        else
                                close(fd);
                }
        }
        return first;
}

static void on_ctl(uv_poll_t *h, int status, int events)
{
        struct proxy *p = h->data;
        union {
                char buf[CMSG_SPACE(sizeof(int) * 4)];
                struct cmsghdr align;
        } control;
        struct iovec iov = {.iov_base = p->ctl_buf, .iov_len = SBD_PROXY_MSG_MAX + 1};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = control.buf, .msg_controllen = sizeof(control.buf)};
        struct sbd_proxy_hdr hdr;
        ssize_t n;
        int type, fd;

        if (status < 0) {
                fprintf(stderr, "skillbox-proxy: control socket: %s\n", uv_strerror(status));
                shut_down(p);
                return;
        }
        n = recvmsg(p->ctl_fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                if (n < 0)
                        fprintf(stderr, "skillbox-proxy: control socket: %s\n", strerror(errno));
                shut_down(p);
                return;
        }
        fd = take_fds(&mh);
        type = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ? -EBADMSG
                                                         : sbd_proxy_msg_check(p->ctl_buf, (size_t)n);
        memset(&hdr, 0, sizeof(hdr));
        if ((size_t)n >= sizeof(hdr))
                memcpy(&hdr, p->ctl_buf, sizeof(hdr));
        hdr.job_id[sizeof(hdr.job_id) - 1] = '\0';
        if (type == SBD_PROXY_MSG_ADD) {
                handle_add(p, p->ctl_buf, fd);
                return;
        }
        if (fd >= 0)
                close(fd);
        if (type == SBD_PROXY_MSG_REMOVE)
                handle_remove(p, p->ctl_buf);
        else if (type == -EPROTO)
                send_reply(p, hdr.job_id, -EPROTO, "unsupported control protocol version");
        else
                send_reply(p, hdr.job_id, -EBADMSG, "malformed control record");
}

int proxy_ctl_start(struct proxy *p, uv_loop_t *loop, int ctl_fd)
{
        int r;

        p->loop = loop;
        p->ctl_fd = ctl_fd;
        p->ctl_buf = malloc(SBD_PROXY_MSG_MAX + 1);
        if (!p->ctl_buf)
                return -ENOMEM;
        r = uv_poll_init(loop, &p->ctl_poll, ctl_fd);
        if (r < 0)
                return r;
        p->ctl_poll.data = p;
        p->ctl_open = true;
        return uv_poll_start(&p->ctl_poll, UV_READABLE | UV_DISCONNECT, on_ctl);
}
