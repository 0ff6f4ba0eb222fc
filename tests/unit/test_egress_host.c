/* test_egress_host.c — the egress proxy's listener on the host's loopback
 * and the proxy variables pointed at it (backends/egress_host.c), what the
 * macos and posix backends give an allowlist job: a port of its own per
 * job, reachable on 127.0.0.1, and the environment the daemon built
 * (daemon/job_args.c) naming that port instead of SB_NETWORK_PROXY_PORT. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "backends/internal.h"
#include "daemon/job_args.h"

static const char *const proxy_keys[] = { "HTTP_PROXY", "http_proxy", "HTTPS_PROXY",
                                          "https_proxy", "ALL_PROXY", "all_proxy" };

static const char *env_get(char **env, const char *key)
{
        size_t kl = strlen(key);

        for (; *env; env++)
                if (strncmp(*env, key, kl) == 0 && (*env)[kl] == '=')
                        return *env + kl + 1;
        return NULL;
}

/* The URL the backends look for is the one the port makes. */
static void test_proxy_url_is_the_port(void **state)
{
        char url[64];

        (void)state;
        snprintf(url, sizeof(url), "http://127.0.0.1:%d", SB_NETWORK_PROXY_PORT);
        assert_string_equal(url, SB_NETWORK_PROXY_URL);
}

/* A job's listener: a port the kernel picked, where a connection to
 * 127.0.0.1 arrives; two jobs never share one; not inherited by a job. */
static void test_listen_port_of_its_own(void **state)
{
        struct sockaddr_in sa;
        uint16_t port1 = 0, port2 = 0;
        char err[256] = "";
        int l1, l2, c, a;

        (void)state;
        l1 = sb_backend_egress_listen(&port1, err, sizeof(err));
        assert_true(l1 >= 0);
        l2 = sb_backend_egress_listen(&port2, err, sizeof(err));
        assert_true(l2 >= 0);
        assert_int_not_equal(port1, 0);
        assert_int_not_equal(port2, 0);
        assert_int_not_equal(port1, port2);
        assert_true(fcntl(l1, F_GETFD) & FD_CLOEXEC);

        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port1);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        c = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(c >= 0);
        assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
        a = accept(l1, NULL, NULL);
        assert_true(a >= 0);
        close(a);
        close(c);
        close(l1);
        close(l2);
}

/* The daemon's environment for an allowlist job, as the backend gives it:
 * each proxy variable names the job's port; NO_PROXY and the rest stay. */
static void test_env_names_the_port(void **state)
{
        char *argv[] = { "true", NULL };
        struct sbp_exec_params p;
        struct sbp_error err;
        char **env, **job;
        size_t n = 0, m = 0;

        (void)state;
        memset(&p, 0, sizeof(p));
        p.argv = argv;
        p.argc = 1;
        env = sbd_job_env_build(&p, NULL, true, &err);
        assert_non_null(env);
        job = sb_backend_egress_env(env, 50123);
        assert_non_null(job);
        for (size_t i = 0; i < sizeof(proxy_keys) / sizeof(proxy_keys[0]); i++)
                assert_string_equal(env_get(job, proxy_keys[i]), "http://127.0.0.1:50123");
        assert_string_equal(env_get(job, "NO_PROXY"), "localhost,127.0.0.1,::1");
        assert_string_equal(env_get(job, "no_proxy"), "localhost,127.0.0.1,::1");
        assert_string_equal(env_get(job, "PATH"), env_get(env, "PATH"));
        while (env[n])
                n++;
        while (job[m])
                m++;
        assert_int_equal(n, m);
        free(job);
        free(env);
}

/* What the client set itself is its own: only the daemon's value moves. */
static void test_env_client_value_kept(void **state)
{
        char *envp[] = { "https_proxy=http://127.0.0.1:9", "HTTP_PROXY=" SB_NETWORK_PROXY_URL,
                         "NOT_HTTP_PROXY=" SB_NETWORK_PROXY_URL, "HTTP_PROXYX=" SB_NETWORK_PROXY_URL,
                         "ALL_PROXY=" SB_NETWORK_PROXY_URL "/", NULL };
        char **job;

        (void)state;
        job = sb_backend_egress_env(envp, 65535);
        assert_non_null(job);
        assert_ptr_equal(job[0], envp[0]);
        assert_string_equal(job[1], "HTTP_PROXY=http://127.0.0.1:65535");
        assert_ptr_equal(job[2], envp[2]);
        assert_ptr_equal(job[3], envp[3]);
        assert_ptr_equal(job[4], envp[4]);
        assert_null(job[5]);
        free(job);

        job = sb_backend_egress_env(NULL, 1);
        assert_non_null(job);
        assert_null(job[0]);
        free(job);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_proxy_url_is_the_port),
                cmocka_unit_test(test_listen_port_of_its_own),
                cmocka_unit_test(test_env_names_the_port),
                cmocka_unit_test(test_env_client_value_kept),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
