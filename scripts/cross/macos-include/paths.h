/* paths.h — zig 0.11's macOS headers lack <paths.h>, which libuv includes
 * (scripts/build-macos.sh); the system's well-known paths, as macOS has them. */
#pragma once
#include <sys/paths.h>
#define _PATH_BSHELL "/bin/sh"
#define _PATH_CONSOLE "/dev/console"
#define _PATH_DEFPATH "/usr/bin:/bin"
#define _PATH_DEVNULL "/dev/null"
#define _PATH_TMP "/tmp/"
#define _PATH_TTY "/dev/tty"
#define _PATH_VARRUN "/var/run/"
