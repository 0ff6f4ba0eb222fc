/* doctor.h — `skillboxctl doctor`: what this host can enforce. */
#pragma once

/* argv[0] is "doctor". Exit status: 0 when everything the default profile
 * needs is there, 1 otherwise, 125 on a bad option. */
int sbctl_doctor(int argc, char **argv);
