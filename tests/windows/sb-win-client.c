/* sb-win-client — libskillbox.dll over a named pipe: connects, says hello,
 * prints what the server said. Built, not installed.
 *
 *   sb-win-client [PIPE]    (default: the library's, \\.\pipe\skillbox)
 */
#include <stdio.h>

#include "skillbox.h"

int main(int argc, char **argv)
{
        struct sb_hello h;
        sb_client *c = NULL;
        int r;

        r = sb_connect(argc > 1 ? argv[1] : NULL, &c);
        if (r < 0) {
                printf("connect: %s\n", sb_errmsg(c));
                sb_close(c);
                return 1;
        }
        r = sb_hello(c, "sb-win-client", &h);
        if (r < 0) {
                printf("hello: %s\n", sb_errmsg(c));
                sb_close(c);
                return 1;
        }
        printf("hello: server=%s protocol=%u role=%s backend=%s\n", h.server, h.protocol, h.role,
               h.host.backend);
        sb_close(c);
        return 0;
}
