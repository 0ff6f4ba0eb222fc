/* proxy_ctl.h — the daemon's side of the skillbox-proxy control socket
 * (proxy_msg.h), and the checks both sides apply to a received record.
 * Plain blocking or non-blocking socket calls, no event loop: the daemon
 * polls the socket with its own loop and calls sbd_proxy_ctl_recv when it
 * is readable.
 */
#ifndef SKILLBOX_PROXY_CTL_H
#define SKILLBOX_PROXY_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/proxy/proxy_msg.h"

/* A message from the proxy, checked and copied out. */
struct sbd_proxy_event {
        enum sbd_proxy_msg_type type; /* REPLY or DENIED */
        char job_id[SBD_PROXY_JOB_ID_SIZE];
        int error;                               /* REPLY: 0 or -errno */
        char message[SBD_PROXY_MESSAGE_SIZE];    /* REPLY: why, when error */
        char host[SBD_PROXY_HOST_SIZE];          /* DENIED */
        uint16_t port;                           /* DENIED */
        uint32_t count;                          /* DENIED: running total */
};

/* 1..15 characters of [0-9A-Za-z_-]. */
bool sbd_proxy_job_id_valid(const char *id);

void sbd_proxy_hdr_init(struct sbd_proxy_hdr *hdr, enum sbd_proxy_msg_type type,
                        const char *job_id);

/* Checks a received record: size of its type, magic, version, a valid
 * NUL-terminated job id and NUL-terminated strings. Returns its type or
 * -EBADMSG (-EPROTO for another version). */
int sbd_proxy_msg_check(const void *buf, size_t len);

/* Sends ADD with listen_fd (not closed; the proxy receives a duplicate).
 * Every entry is checked with allow_entry_parse first: -EINVAL names no
 * entry, the caller checked them when it read the profile. -E2BIG for more
 * than SBD_PROXY_ENTRIES_MAX entries. */
int sbd_proxy_ctl_add(int ctl_fd, const char *job_id, const char *const *entries, size_t n,
                      int listen_fd);
int sbd_proxy_ctl_remove(int ctl_fd, const char *job_id);

/* Receives one message. -EAGAIN on a non-blocking socket with nothing to
 * read, -ECONNRESET when the proxy is gone, -EBADMSG/-EPROTO for a record
 * that fails the checks (and any fd that came with it is closed). */
int sbd_proxy_ctl_recv(int ctl_fd, struct sbd_proxy_event *ev);

#endif
