/* access.c — roles and profile permissions by peer identity.
 *
 * A peer is identified by the kernel, never by what it says: the transport
 * reports the uid, gid, pid and groups the kernel recorded at connect()
 * (transport.h), and this file only decides what that identity may do.
 *
 * Roles: the superuser (transport.h: root; SYSTEM or an Administrator on
 * Windows) is always admin; then Admins=, then Clients=; anyone else has
 * no role and is refused before a single byte is read from it. Every list is
 * an allow list, so a group the lookup missed can only deny, never grant.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/access.h"
#include "daemon/access_names.h"
#include "daemon/conn.h"
#include "daemon/log.h"
#include "daemon/settings.h"
#include "daemon/transport/transport.h"

struct principals {
        uid_t *uids;
        size_t nuids;
        gid_t *gids;
        size_t ngids;
        bool any;              /* the list was empty: everyone (AllowedUsers= only) */
};

struct sbd_access {
        struct principals admins, clients;
        struct principals *profiles;   /* by index in the configuration's profiles */
        size_t n_profiles;
};

static bool all_digits(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

static int add_uid(struct principals *p, uid_t id)
{
        uid_t *nv = realloc(p->uids, (p->nuids + 1) * sizeof(*nv));

        if (!nv)
                return -ENOMEM;
        nv[p->nuids++] = id;
        p->uids = nv;
        return 0;
}

static int add_gid(struct principals *p, gid_t id)
{
        gid_t *nv = realloc(p->gids, (p->ngids + 1) * sizeof(*nv));

        if (!nv)
                return -ENOMEM;
        nv[p->ngids++] = id;
        p->gids = nv;
        return 0;
}

/* Resolve one list; what names the list is for messages ("Clients"). */
static int resolve(const struct sbd_conf_list *l, const char *what, struct principals *out)
{
        size_t i;
        int r;

        memset(out, 0, sizeof(*out));
        out->any = l->n == 0;
        for (i = 0; i < l->n; i++) {
                const char *name = l->v[i];

                if (name[0] == '@') {
                        gid_t gid;

                        name++;
                        if (all_digits(name)) {
                                gid = (gid_t)strtoul(name, NULL, 10);
                        } else if (sbd_access_group_id(name, &gid) < 0) {
                                log_warning("%s: no group %s; it matches nobody", what, name);
                                continue;
                        }
                        r = add_gid(out, gid);
                } else {
                        uid_t uid;

                        if (all_digits(name)) {
                                uid = (uid_t)strtoul(name, NULL, 10);
                        } else if (sbd_access_user_id(name, &uid) < 0) {
                                log_warning("%s: no user %s; it matches nobody", what, name);
                                continue;
                        }
                        r = add_uid(out, uid);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static void principals_clear(struct principals *p)
{
        free(p->uids);
        free(p->gids);
        memset(p, 0, sizeof(*p));
}

struct sbd_access *sbd_access_free(struct sbd_access *a)
{
        size_t i;

        if (!a)
                return NULL;
        principals_clear(&a->admins);
        principals_clear(&a->clients);
        for (i = 0; i < a->n_profiles; i++)
                principals_clear(&a->profiles[i]);
        free(a->profiles);
        free(a);
        return NULL;
}

int sbd_access_new(const struct sbd_conf *c, struct sbd_access **out)
{
        struct sbd_access *a = calloc(1, sizeof(*a));
        char what[SBP_NAME_MAX + 40];
        size_t i;
        int r;

        *out = NULL;
        if (!a)
                return -ENOMEM;
        r = resolve(&c->admins, "Admins", &a->admins);
        if (r == 0)
                r = resolve(&c->clients, "Clients", &a->clients);
        /* Empty Admins=/Clients= mean nobody (root stays admin). */
        a->admins.any = a->clients.any = false;
        if (r == 0 && c->n_profiles) {
                a->profiles = calloc(c->n_profiles, sizeof(*a->profiles));
                if (!a->profiles)
                        r = -ENOMEM;
                else
                        a->n_profiles = c->n_profiles;
        }
        for (i = 0; r == 0 && i < a->n_profiles; i++) {
                snprintf(what, sizeof(what), "[Profile %s] AllowedUsers", c->profiles[i].p.name);
                r = resolve(&c->profiles[i].allowed_users, what, &a->profiles[i]);
        }
        if (r < 0) {
                sbd_access_free(a);
                return r;
        }
        *out = a;
        return 0;
}

static bool matches(const struct principals *p, const struct sbd_conn *c)
{
        size_t i, k;

        if (p->any)
                return true;
        for (i = 0; i < p->nuids; i++)
                if (p->uids[i] == c->uid)
                        return true;
        for (i = 0; i < p->ngids; i++)
                for (k = 0; k < c->ngroups; k++)
                        if (p->gids[i] == c->groups[k])
                                return true;
        return false;
}

int sbd_access_admit(const struct sbd_access *a, struct sbd_conn *c, const struct sbd_peer *p)
{
        c->uid = p->uid;
        c->gid = p->gid;
        c->pid = p->pid;
        memcpy(c->groups, p->groups, p->ngroups * sizeof(p->groups[0]));
        c->ngroups = p->ngroups;
        c->admin = p->superuser || (a && matches(&a->admins, c));
        if (c->admin)
                return 1;
        return a && matches(&a->clients, c) ? 1 : 0;
}

bool sbd_access_profile_allowed(const struct sbd_access *a, const struct sbd_conf *conf,
                                const struct sbd_conn *c, const struct sbd_conf_profile *p)
{
        size_t i;

        if (c->admin)
                return true;
        if (!a || !conf || p < conf->profiles || p >= conf->profiles + conf->n_profiles)
                return false;
        i = (size_t)(p - conf->profiles);
        return i < a->n_profiles && matches(&a->profiles[i], c);
}
