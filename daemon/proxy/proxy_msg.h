/* proxy_msg.h — the control protocol between skillboxd and skillbox-proxy.
 *
 * One SOCK_SEQPACKET socket (fd 3 in the proxy): every record is exactly one
 * message, so a message is never split or merged and its size is known
 * before it is read. Each message is a flat, fixed-size struct that starts
 * with the same header (magic, version, type, job id); no pointers, no
 * lengths to trust. A receiver refuses a record whose size is not the size
 * of its type, whose magic or version differs, or whose strings are not
 * NUL-terminated.
 *
 *   daemon -> proxy  ADD     {job, allowlist}  + one fd (SCM_RIGHTS): a TCP
 *                            socket listening on 127.0.0.1:<port> inside the
 *                            job's network namespace
 *   daemon -> proxy  REMOVE  {job}             closes that job's listener and
 *                                              every connection of it
 *   proxy -> daemon  REPLY   {job, error, message}  answers ADD and REMOVE in
 *                                              order; error 0 or -errno
 *   proxy -> daemon  DENIED  {job, host, port, count} unsolicited: a request
 *                            of the job was refused; count is the running
 *                            total for that host:port, so a report lost to a
 *                            full socket is made good by the next one
 */
#ifndef SKILLBOX_PROXY_MSG_H
#define SKILLBOX_PROXY_MSG_H

#include <stdint.h>

#define SBD_PROXY_MAGIC 0x50584253u /* "SBXP" little-endian */
#define SBD_PROXY_VERSION 1u

/* A daemon job id is 12 hex digits; the field leaves room and a NUL. */
#define SBD_PROXY_JOB_ID_SIZE 16
/* An entry: a 253-byte name, "*." or brackets, ':' and 5 port digits. */
#define SBD_PROXY_ENTRY_SIZE 264
#define SBD_PROXY_ENTRIES_MAX 64
#define SBD_PROXY_HOST_SIZE 256
#define SBD_PROXY_MESSAGE_SIZE 128

enum sbd_proxy_msg_type {
        SBD_PROXY_MSG_ADD = 1,
        SBD_PROXY_MSG_REMOVE = 2,
        SBD_PROXY_MSG_REPLY = 3,
        SBD_PROXY_MSG_DENIED = 4,
};

struct sbd_proxy_hdr {
        uint32_t magic;
        uint16_t version;
        uint16_t type;
        char job_id[SBD_PROXY_JOB_ID_SIZE];
};

struct sbd_proxy_add {
        struct sbd_proxy_hdr hdr;
        uint32_t n_entries;
        char entries[SBD_PROXY_ENTRIES_MAX][SBD_PROXY_ENTRY_SIZE];
};

struct sbd_proxy_remove {
        struct sbd_proxy_hdr hdr;
};

struct sbd_proxy_reply {
        struct sbd_proxy_hdr hdr;
        int32_t error;
        char message[SBD_PROXY_MESSAGE_SIZE];
};

struct sbd_proxy_denied {
        struct sbd_proxy_hdr hdr;
        uint16_t port;
        uint16_t reserved;
        uint32_t count;
        char host[SBD_PROXY_HOST_SIZE];
};

/* The largest record either side reads: a receive buffer of this size
 * plus one byte tells an oversized record (MSG_TRUNC) from a fitting one. */
#define SBD_PROXY_MSG_MAX sizeof(struct sbd_proxy_add)

#endif
