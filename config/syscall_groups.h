/* syscall_groups.h — the names a profile's SystemCallFilter= may add to a
 * job's system call filter, in systemd's "@group" style.
 *
 * One list for both sides: the config parser refuses any other name at
 * load (keys.c), since a name the backend does not define would fail every
 * job; the linux backend defines what each allows (backends/linux/
 * seccomp.c), and its unit test checks that it defines exactly these.
 * Names only, no dependencies: the config builds without that backend.
 */
#pragma once

#define SB_SG_DEFAULT "@default"
#define SB_SG_BASIC_IO "@basic-io"
#define SB_SG_FILE_SYSTEM "@file-system"
#define SB_SG_FILE_IO "@file-io"
#define SB_SG_IO_EVENT "@io-event"
#define SB_SG_AIO "@aio"
#define SB_SG_IPC "@ipc"
#define SB_SG_MEMORY "@memory"
#define SB_SG_PROCESS "@process"
#define SB_SG_SIGNAL "@signal"
#define SB_SG_TIMER "@timer"
#define SB_SG_SYNC "@sync"
#define SB_SG_RESOURCES "@resources"
#define SB_SG_SYSTEM_INFO "@system-info"
#define SB_SG_CREDENTIALS "@credentials"
#define SB_SG_SANDBOX "@sandbox"
#define SB_SG_NETWORK_IO "@network-io"
#define SB_SG_DEBUG "@debug"
#define SB_SG_KEYRING "@keyring"

/* X(name) for each of them. */
#define SB_SYSCALL_GROUP_NAMES(X)                                               \
        X(SB_SG_DEFAULT) X(SB_SG_BASIC_IO) X(SB_SG_FILE_SYSTEM) X(SB_SG_FILE_IO)  \
        X(SB_SG_IO_EVENT) X(SB_SG_AIO) X(SB_SG_IPC) X(SB_SG_MEMORY)              \
        X(SB_SG_PROCESS) X(SB_SG_SIGNAL) X(SB_SG_TIMER) X(SB_SG_SYNC)            \
        X(SB_SG_RESOURCES) X(SB_SG_SYSTEM_INFO) X(SB_SG_CREDENTIALS)             \
        X(SB_SG_SANDBOX) X(SB_SG_NETWORK_IO) X(SB_SG_DEBUG)
