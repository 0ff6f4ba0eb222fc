/* termraw_windows.c — termraw.h on Windows: there is no POSIX terminal to
 * put in raw mode and no SIGWINCH. skillboxctl refuses --tty there
 * (ctl_os_windows.c), so nothing here runs; the stand-ins say why if it did. */
#include <errno.h>

#include "client/termraw.h"

int sbctl_termraw_enter(int fd)
{
        (void)fd;
        return -EOPNOTSUPP;
}

void sbctl_termraw_leave(void)
{
}

int sbctl_winch_fd(void)
{
        return -EOPNOTSUPP;
}

void sbctl_winch_drain(void)
{
}
