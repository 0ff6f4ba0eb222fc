/* sb-win-pipe-server — serves one libskillbox client over the daemon's named
 * pipe code (daemon/transport/pipe.c) under Wine: the pipe made with its
 * DACL as the first instance, the client identified by its token, one
 * hello answered with the protocol codec. Built, not installed.
 *
 *   sb-win-pipe-server PIPE [GROUP_SID]
 *
 * Prints "listening", then "squat: refused" (a second first instance of
 * the name is refused), "peer: pid=N sid=S admin=0|1" and "hello answered".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <windows.h>

#include "daemon/transport/pipe.h"
#include "protocol/sbp.h"

/* One overlapped read or write, waited for; bytes moved or -1. */
static long io(HANDLE h, void *buf, DWORD len, bool write)
{
        OVERLAPPED ov = { 0 };
        DWORD n = 0;
        BOOL ok;

        ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
        ok = write ? WriteFile(h, buf, len, NULL, &ov) : ReadFile(h, buf, len, NULL, &ov);
        if (!ok && GetLastError() != ERROR_IO_PENDING) {
                CloseHandle(ov.hEvent);
                return -1;
        }
        ok = GetOverlappedResult(h, &ov, &n, TRUE);
        CloseHandle(ov.hEvent);
        return ok ? (long)n : -1;
}

int main(int argc, char **argv)
{
        PSECURITY_DESCRIPTOR sd = NULL;
        struct sbd_pipe_peer peer;
        struct sbp_reader reader;
        struct sbp_message m;
        struct sbp_error err;
        char errbuf[256] = "";
        OVERLAPPED ov = { 0 };
        HANDLE h, squat;
        bool has_msgid = false;
        int r;

        if (argc < 2) {
                fprintf(stderr, "usage: sb-win-pipe-server PIPE [GROUP_SID]\n");
                return 2;
        }
        if (sbd_pipe_security(argc > 2 ? argv[2] : NULL, &sd, errbuf, sizeof(errbuf)) < 0) {
                printf("security: %s\n", errbuf);
                return 1;
        }
        h = sbd_pipe_instance(argv[1], sd, true, errbuf, sizeof(errbuf));
        if (h == INVALID_HANDLE_VALUE) {
                printf("listen: %s\n", errbuf);
                return 1;
        }
        squat = sbd_pipe_instance(argv[1], sd, true, errbuf, sizeof(errbuf));
        printf("%s\n", squat == INVALID_HANDLE_VALUE ? "squat: refused" : "squat: ALLOWED");
        if (squat != INVALID_HANDLE_VALUE)
                CloseHandle(squat);
        printf("listening\n");
        fflush(stdout);

        ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
        if (!ConnectNamedPipe(h, &ov)) {
                DWORD e = GetLastError();
                DWORD n;

                if (e == ERROR_IO_PENDING) {
                        if (WaitForSingleObject(ov.hEvent, 60000) != WAIT_OBJECT_0 ||
                            !GetOverlappedResult(h, &ov, &n, FALSE)) {
                                printf("connect: no client\n");
                                return 1;
                        }
                } else if (e != ERROR_PIPE_CONNECTED) {
                        printf("connect: Win32 error %lu\n", (unsigned long)e);
                        return 1;
                }
        }
        if (sbd_pipe_peer(h, &peer, errbuf, sizeof(errbuf)) < 0) {
                printf("peer: %s\n", errbuf);
                return 1;
        }
        printf("peer: pid=%u sid=%s admin=%d\n", peer.pid, peer.user_sid, peer.admin);
        fflush(stdout);

        if (sbp_reader_init(&reader, 0) < 0)
                return 1;
        for (;;) {
                char *buf;
                size_t len;
                long n;

                r = sbp_reader_next(&reader, &m, &has_msgid, &err);
                if (r != 0)
                        break;
                if (sbp_reader_reserve(&reader, 4096, &buf, &len) < 0)
                        return 1;
                n = io(h, buf, len > 65536 ? 65536 : (DWORD)len, false);
                if (n <= 0) {
                        printf("read: the client left before its request\n");
                        return 1;
                }
                sbp_reader_commit(&reader, (size_t)n);
        }
        if (r < 0 || m.type != SBP_REQUEST || m.method_len != 5 ||
            memcmp(m.method, "hello", 5) != 0) {
                printf("request: not a hello\n");
                return 1;
        }
        {
                struct sbp_hello_result res;
                msgpack_sbuffer sb;
                msgpack_packer pk;

                memset(&res, 0, sizeof(res));
                snprintf(res.server, sizeof(res.server), "skillboxd-pipe-test");
                snprintf(res.version, sizeof(res.version), "0");
                res.protocol = SBP_PROTOCOL_VERSION;
                snprintf(res.role, sizeof(res.role), "%s", peer.admin ? "admin" : "client");
                snprintf(res.host.backend, sizeof(res.host.backend), "windows");
                snprintf(res.host.cgroup, sizeof(res.host.cgroup), "none");
                res.host.uid = res.host.gid = -1;
                msgpack_sbuffer_init(&sb);
                msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
                sbp_pack_response_begin(&pk, m.msgid);
                sbp_hello_result_pack(&pk, &res);
                if (io(h, sb.data, (DWORD)sb.size, true) != (long)sb.size) {
                        printf("write: failed\n");
                        return 1;
                }
                msgpack_sbuffer_destroy(&sb);
        }
        printf("hello answered\n");
        fflush(stdout);
        /* Until the client closes its end. */
        {
                char b[64];

                while (io(h, b, sizeof(b), false) > 0)
                        ;
        }
        sbp_reader_destroy(&reader);
        CloseHandle(h);
        LocalFree(sd);
        return 0;
}
