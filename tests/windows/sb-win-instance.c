/* sb-win-instance — one daemon per state dir on Windows
 * (daemon/instance_windows.c) under Wine. Built, not installed.
 *
 *   sb-win-instance DIR     (an existing directory)
 *
 * Prints "first: 0", "second: -N" (-EBUSY: the state dir is claimed),
 * "after release: 0" and "EBUSY=N".
 */
#include <errno.h>
#include <stdio.h>

#include "daemon/instance.h"
#include "daemon/log.h"

int main(int argc, char **argv)
{
        struct sbd_instance a, b, c;

        if (argc != 2) {
                fprintf(stderr, "usage: sb-win-instance DIR\n");
                return 2;
        }
        sbd_log_init();
        printf("first: %d\n", sbd_instance_claim(&a, NULL, "x", 0, 0, argv[1]));
        printf("second: %d\n", sbd_instance_claim(&b, NULL, "y", 1, 1, argv[1]));
        sbd_instance_release(&b);
        sbd_instance_release(&a);
        printf("after release: %d\n", sbd_instance_claim(&c, NULL, "x", 0, 0, argv[1]));
        sbd_instance_release(&c);
        printf("EBUSY=%d\n", EBUSY);
        return 0;
}
