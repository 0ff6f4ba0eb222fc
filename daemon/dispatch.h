/* dispatch.h — method name to handler, for one decoded request. */
#pragma once

#include "daemon/conn.h"

/* Handle request m on c. Every request gets exactly one response, possibly
 * later (wait, kill, stdin_write). */
void sbd_dispatch(struct sbd_conn *c, const struct sbp_message *m);
