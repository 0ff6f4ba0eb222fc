/* doctor.h — `skillboxctl doctor`: the daemon's configuration, and what this
 * host can enforce. */
#pragma once

/* argv[0] is "doctor". Exit status: 0 when the configuration has no error and
 * everything the default profile needs is there, 1 otherwise, 125 on a bad option. */
int sbctl_doctor(int argc, char **argv, const char *socket_path);
