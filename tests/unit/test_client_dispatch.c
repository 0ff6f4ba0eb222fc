/* test_client_dispatch.c — libskillbox's dispatch of replies and
 * notifications, against a fake daemon on a Unix socket in this process.
 *
 * The fake writes several replies and a notification in one write, so they
 * are all in the client's read buffer when the first callback runs: a
 * callback that cancels a request whose reply is already read, issues new
 * requests and frees its own state must leave the rest of the buffer to be
 * dispatched correctly. The real daemon cannot be made to batch replies on
 * purpose; tests/integration/test_client_async.py covers the same API
 * against it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/skillbox.h"
#include "protocol/sbp.h"

struct fake {
        char dir[64];
        char path[96];
        int listen_fd, fd;
        sb_client *c;
};

static void fake_start(struct fake *f)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        strcpy(f->dir, "/tmp/sbtest-dispatch-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/s.sock", f->dir);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
        f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(f->listen_fd >= 0);
        assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(f->listen_fd, 1), 0);
        assert_int_equal(sb_connect(f->path, &f->c), 0);
        f->fd = accept(f->listen_fd, NULL, NULL);
        assert_true(f->fd >= 0);
}

static void fake_stop(struct fake *f)
{
        sb_close(f->c);
        close(f->fd);
        close(f->listen_fd);
        unlink(f->path);
        rmdir(f->dir);
}

/* Write the packed messages in one go. */
static void fake_send(struct fake *f, msgpack_sbuffer *b)
{
        assert_int_equal(write(f->fd, b->data, b->size), (ssize_t)b->size);
        msgpack_sbuffer_clear(b);
}

static void pack_nil_reply(msgpack_packer *pk, uint32_t msgid)
{
        sbp_pack_response_begin(pk, msgid);
        msgpack_pack_nil(pk);
}

/* ---- callbacks ---- */

struct state {
        char order[16];
        int n;
        sb_request *victim;
        int victim_called;
        int *freed_job;         /* a job's state the output callback frees */
};

static struct state st;

static void note(char tag)
{
        st.order[st.n++] = tag;
        st.order[st.n] = '\0';
}

static void victim_done(sb_client *c, int error, struct sb_reply *reply, void *userdata)
{
        (void)c;
        (void)error;
        (void)reply;
        (void)userdata;
        st.victim_called++;
}

static void tagged(sb_client *c, int error, struct sb_reply *reply, void *userdata);

static void first_done(sb_client *c, int error, struct sb_reply *reply, void *userdata)
{
        (void)reply;
        (void)userdata;
        assert_int_equal(error, 0);
        note('A');
        /* The victim's reply sits in the read buffer behind ours. */
        sb_request_cancel(c, st.victim);
        st.victim = NULL;
        /* A request from a callback: msgid 5. */
        assert_int_equal(sb_kill_async(c, "job-e", tagged, (void *)"E", NULL), 0);
}

static void tagged(sb_client *c, int error, struct sb_reply *reply, void *userdata)
{
        const char *tag = userdata;

        (void)c;
        (void)reply;
        assert_int_equal(error, tag[0] == 'X' ? -ENOENT : 0);
        note(tag[0]);
}

static void on_output(const char *job, enum sb_stream stream, const void *data, size_t len,
                      void *userdata)
{
        sb_client *c = userdata;

        (void)stream;
        assert_string_equal(job, "job-o");
        assert_int_equal(len, 5);
        assert_memory_equal(data, "hello", 5);
        note('o');
        /* Free this job's state and kill it from its output callback. */
        free(st.freed_job);
        st.freed_job = NULL;
        assert_int_equal(sb_kill_async(c, job, tagged, (void *)"K", NULL), 0);
}

static void test_callbacks_cancel_and_issue_while_replies_are_buffered(void **unused)
{
        struct sbp_error nf = { .code = SBP_E_NOT_FOUND };
        struct sb_callbacks cb = { .job_output = on_output };
        msgpack_sbuffer b;
        msgpack_packer pk;
        struct fake f;
        int r, total = 0;

        (void)unused;
        memset(&st, 0, sizeof(st));
        st.freed_job = malloc(sizeof(int));
        fake_start(&f);
        cb.userdata = f.c;
        msgpack_sbuffer_init(&b);
        msgpack_packer_init(&pk, &b, msgpack_sbuffer_write);

        /* msgids 1..4 */
        assert_int_equal(sb_kill_async(f.c, "job-a", first_done, NULL, NULL), 0);
        assert_int_equal(sb_kill_async(f.c, "job-b", victim_done, NULL, &st.victim), 0);
        assert_int_equal(sb_kill_async(f.c, "job-c", tagged, (void *)"C", NULL), 0);
        assert_int_equal(sb_kill_async(f.c, "job-x", tagged, (void *)"X", NULL), 0);

        /* Out of order, with a notification between, all in one write. */
        pack_nil_reply(&pk, 3);
        pack_nil_reply(&pk, 1);
        sbp_job_output_pack(&pk, "job-o", SBP_STDOUT, "hello", 5);
        pack_nil_reply(&pk, 2);
        snprintf(nf.message, sizeof(nf.message), "no such job");
        sbp_pack_response_error(&pk, 4, &nf);
        fake_send(&f, &b);
        while (strlen(st.order) < 4) {
                r = sb_process(f.c, 1000, &cb);
                assert_true(r >= 0);
                total += r;
        }
        assert_string_equal(st.order, "CAoX");
        assert_int_equal(st.victim_called, 0);
        assert_null(st.freed_job);

        /* The requests the callbacks issued: kill job-o (6) and job-e (5). */
        pack_nil_reply(&pk, 6);
        pack_nil_reply(&pk, 5);
        fake_send(&f, &b);
        while (strlen(st.order) < 6) {
                r = sb_process(f.c, 1000, &cb);
                assert_true(r >= 0);
        }
        assert_string_equal(st.order, "CAoXKE");
        assert_int_equal(st.victim_called, 0);

        /* A reply to a msgid not in flight (the cancelled one's is gone too)
         * breaks the connection: it is not ours to guess. */
        pack_nil_reply(&pk, 2);
        fake_send(&f, &b);
        do
                r = sb_process(f.c, 1000, &cb);
        while (r == 0);
        assert_int_equal(r, -EPROTO);

        msgpack_sbuffer_destroy(&b);
        fake_stop(&f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_callbacks_cancel_and_issue_while_replies_are_buffered),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
