/* test_proxy_ctl.c — the daemon's side of the skillbox-proxy control
 * socket: ADD carries the allowlist and exactly one fd, entries are checked
 * before anything is sent, and received records are refused unless size,
 * magic, version, job id and strings are all right.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/proxy/proxy_ctl.h"

static int pair[2];

static int setup(void **state)
{
        (void)state;
        return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair);
}

static int teardown(void **state)
{
        (void)state;
        close(pair[0]);
        close(pair[1]);
        return 0;
}

static void test_add_carries_entries_and_fd(void **state)
{
        static const char *const entries[] = {"pypi.org", "*.pythonhosted.org:443"};
        struct sbd_proxy_add *m = calloc(1, sizeof(*m) + 1);
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } control;
        struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m) + 1};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                            .msg_controllen = sizeof(control.buf)};
        struct stat a, b;
        int fd, passed;
        ssize_t n;

        (void)state;
        assert_non_null(m);
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(sbd_proxy_ctl_add(pair[0], "0123456789ab", entries, 2, fd), 0);
        n = recvmsg(pair[1], &mh, MSG_CMSG_CLOEXEC);
        assert_int_equal(n, sizeof(*m));
        assert_int_equal(sbd_proxy_msg_check(m, (size_t)n), SBD_PROXY_MSG_ADD);
        assert_string_equal(m->hdr.job_id, "0123456789ab");
        assert_int_equal(m->n_entries, 2);
        assert_string_equal(m->entries[0], "pypi.org");
        assert_string_equal(m->entries[1], "*.pythonhosted.org:443");
        assert_non_null(CMSG_FIRSTHDR(&mh));
        memcpy(&passed, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
        assert_int_equal(fstat(fd, &a), 0);
        assert_int_equal(fstat(passed, &b), 0);
        assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
        close(passed);
        close(fd);
        free(m);
}

static void test_add_refuses_bad_input(void **state)
{
        static const char *const bad[] = {"pypi.org", "not a host"};
        const char *many[SBD_PROXY_ENTRIES_MAX + 1];
        char buf[64];

        (void)state;
        for (size_t i = 0; i < SBD_PROXY_ENTRIES_MAX + 1; i++)
                many[i] = "pypi.org";
        assert_int_equal(sbd_proxy_ctl_add(pair[0], "job", bad, 2, 0), -EINVAL);
        assert_int_equal(sbd_proxy_ctl_add(pair[0], "job", many, SBD_PROXY_ENTRIES_MAX + 1, 0),
                         -E2BIG);
        assert_int_equal(sbd_proxy_ctl_add(pair[0], "bad id", bad, 1, 0), -EINVAL);
        assert_int_equal(sbd_proxy_ctl_add(pair[0], "0123456789abcdef", bad, 1, 0), -EINVAL);
        assert_int_equal(sbd_proxy_ctl_add(pair[0], "job", bad, 1, -1), -EINVAL);
        /* Nothing was sent. */
        assert_int_equal(recv(pair[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
        assert_int_equal(errno, EAGAIN);
}

static void test_remove(void **state)
{
        struct sbd_proxy_remove m;

        (void)state;
        assert_int_equal(sbd_proxy_ctl_remove(pair[0], "job7"), 0);
        assert_int_equal(recv(pair[1], &m, sizeof(m), 0), sizeof(m));
        assert_int_equal(sbd_proxy_msg_check(&m, sizeof(m)), SBD_PROXY_MSG_REMOVE);
        assert_string_equal(m.hdr.job_id, "job7");
}

static void test_recv_reply_and_denied(void **state)
{
        struct sbd_proxy_reply reply;
        struct sbd_proxy_denied denied;
        struct sbd_proxy_event ev;

        (void)state;
        memset(&reply, 0, sizeof(reply));
        sbd_proxy_hdr_init(&reply.hdr, SBD_PROXY_MSG_REPLY, "job1");
        reply.error = -EEXIST;
        strcpy(reply.message, "add: job already added");
        assert_int_equal(send(pair[1], &reply, sizeof(reply), 0), sizeof(reply));
        assert_int_equal(sbd_proxy_ctl_recv(pair[0], &ev), 0);
        assert_int_equal(ev.type, SBD_PROXY_MSG_REPLY);
        assert_string_equal(ev.job_id, "job1");
        assert_int_equal(ev.error, -EEXIST);
        assert_string_equal(ev.message, "add: job already added");

        memset(&denied, 0, sizeof(denied));
        sbd_proxy_hdr_init(&denied.hdr, SBD_PROXY_MSG_DENIED, "job1");
        strcpy(denied.host, "evil.example");
        denied.port = 443;
        denied.count = 3;
        assert_int_equal(send(pair[1], &denied, sizeof(denied), 0), sizeof(denied));
        assert_int_equal(sbd_proxy_ctl_recv(pair[0], &ev), 0);
        assert_int_equal(ev.type, SBD_PROXY_MSG_DENIED);
        assert_string_equal(ev.host, "evil.example");
        assert_int_equal(ev.port, 443);
        assert_int_equal(ev.count, 3);
}

static void test_recv_refuses_bad_records(void **state)
{
        struct sbd_proxy_reply reply;
        struct sbd_proxy_denied denied;
        struct sbd_proxy_remove remove;
        struct sbd_proxy_event ev;
        char big[sizeof(struct sbd_proxy_denied) + 64];

        (void)state;
        memset(&reply, 0, sizeof(reply));
        sbd_proxy_hdr_init(&reply.hdr, SBD_PROXY_MSG_REPLY, "job1");

        reply.hdr.magic ^= 1;
        send(pair[1], &reply, sizeof(reply), 0);
        assert_int_equal(sbd_proxy_ctl_recv(pair[0], &ev), -EBADMSG);
        reply.hdr.magic ^= 1;

        reply.hdr.version++;
        send(pair[1], &reply, sizeof(reply), 0);
        assert_int_equal(sbd_proxy_ctl_recv(pair[0], &ev), -EPROTO);
        reply.hdr.version--;

        send(pair[1], &reply, sizeof(reply) - 1, 0); /* short */
        assert_int_equal(sbd_proxy_ctl_recv(pair[0], &ev), -EBADMSG);

        memset(reply.message, 'x', sizeof(reply.message)); /* unterminated */
        send(pair[1], &reply, sizeof(reply), 0);
        assert_int_equal(sbd_proxy_ctl_recv(pair[0], &ev), -EBADMSG);
        reply.message[0] = '\0';

        reply.error = 5; /* errors are negative */
        send(pair[1], &reply, sizeof(reply), 0);
        assert_int_equal(sbd_proxy_ctl_recv(pair[0], &ev), -EBADMSG);
        reply.error = 0;

        memset(reply.hdr.job_id, 'a', sizeof(reply.hdr.job_id)); /* unterminated id */
        send(pair[1], &reply, sizeof(reply), 0);
        assert_int_equal(sbd_proxy_ctl_recv(pair[0], &ev), -EBADMSG);

        memset(&denied, 0, sizeof(denied));
        sbd_proxy_hdr_init(&denied.hdr, SBD_PROXY_MSG_DENIED, "job1");
        memset(denied.host, 'h', sizeof(denied.host));
        send(pair[1], &denied, sizeof(denied), 0);
        assert_int_equal(sbd_proxy_ctl_recv(pair[0], &ev), -EBADMSG);

        memset(big, 0, sizeof(big)); /* oversized: truncated on receipt */
        memcpy(big, &denied, sizeof(denied));
        send(pair[1], big, sizeof(big), 0);
        assert_int_equal(sbd_proxy_ctl_recv(pair[0], &ev), -EBADMSG);

        sbd_proxy_hdr_init(&remove.hdr, SBD_PROXY_MSG_REMOVE, "job1"); /* wrong direction */
        send(pair[1], &remove, sizeof(remove), 0);
        assert_int_equal(sbd_proxy_ctl_recv(pair[0], &ev), -EBADMSG);

        close(pair[1]);
        pair[1] = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        assert_int_equal(sbd_proxy_ctl_recv(pair[0], &ev), -ECONNRESET);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_add_carries_entries_and_fd, setup, teardown),
                cmocka_unit_test_setup_teardown(test_add_refuses_bad_input, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recv_reply_and_denied, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recv_refuses_bad_records, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
