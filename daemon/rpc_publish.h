/* rpc_publish.h — job_connect: a connection to a port a job published. */
#pragma once

#include <msgpack.h>
#include <stdint.h>

#include "daemon/conn.h"

/* The job_connect handler (dispatch.c's contract): replies itself and
 * returns 0, or returns <0 with err filled. */
int sbd_rpc_job_connect(struct sbd_conn *c, uint32_t msgid, const msgpack_object *params,
                        struct sbp_error *err);
