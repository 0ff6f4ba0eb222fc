/* netns.c — network "none": the fresh network namespace has only lo, down;
 * bring it up so the job can talk to itself on 127.0.0.1. Runs in the
 * pre-exec child: one socket, two ioctls, no allocation. */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/linux/linux.h"

int sb_linux_lo_up(const char **step)
{
        struct ifreq ifr;
        int fd, r = 0;

        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                *step = "socket for lo";
                return -errno;
        }
        memset(&ifr, 0, sizeof(ifr));
        memcpy(ifr.ifr_name, "lo", 3);
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
                *step = "SIOCGIFFLAGS lo";
                r = -errno;
        } else {
                ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
                if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
                        *step = "SIOCSIFFLAGS lo";
                        r = -errno;
                }
        }
        close(fd);
        return r;
}
