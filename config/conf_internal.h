/* conf_internal.h — shared between the parser (conf.c) and the key tables
 * (keys.c). Not installed, not used outside config/.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/conf.h"

enum section { SEC_NONE, SEC_DAEMON, SEC_ACCESS, SEC_PROFILE, SEC_IGNORED };

/* The state of one sbd_conf_apply_text(). */
struct parse {
        struct sbd_conf *c;
        const char *name;              /* file name in messages */
        struct sbd_conf_errors *errs;
        const char *text;
        size_t pos;
        unsigned line;                 /* the line inih is processing */
        unsigned last_error_line;
        bool failed, oom;

        enum section sec;
        size_t profile_index;          /* SEC_PROFILE: in c->profiles */
        bool profiles_replaced;        /* this text defined a profile */
        struct sbd_conf_profile base;  /* what a new profile starts from */
        /* List keys assigned in this text (by key index): the first
         * assignment replaces the previous layer's list, later ones append. */
        uint64_t touched, touched_daemon, touched_access;
};

void sbd_conf_key_error(struct parse *ps, const char *key, const char *value,
                        const char *reason);
void sbd_conf_list_clear(struct sbd_conf_list *l);
int sbd_conf_list_add(struct sbd_conf_list *l, const char *word, size_t len);
int sbd_conf_list_copy(struct sbd_conf_list *dst, const struct sbd_conf_list *src);

void sbd_conf_set_daemon(struct parse *ps, const char *key, const char *value);
void sbd_conf_set_access(struct parse *ps, const char *key, const char *value);
void sbd_conf_set_profile(struct parse *ps, struct sbd_conf_profile *p, const char *key,
                          const char *value);
