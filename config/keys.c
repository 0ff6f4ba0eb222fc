/* keys.c — every key of skillboxd.conf: its section, syntax and checks.
 *
 * One table per section; a key's value is validated completely before it is
 * stored. Key names follow systemd.exec(5) / systemd.resource-control(5)
 * where the concept exists there; the rest are ours (SocketGroup,
 * CgroupName, UidRange, Max*, RetainSec, StdinQueueMax, TmpSize, TmpInodesMax,
 * WorkSizeMax, WorkInodesMax, OutputMax, Network, AllowedHosts,
 * OutputTruncate, Require, AllowedUsers, Admins, Clients).
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/conf_internal.h"
#include "config/syscall_groups.h"
#include "daemon/proxy/allow.h"

enum type {
        T_SOCKET,      /* absolute path that fits sun_path */
        T_DIR,         /* absolute path */
        T_GROUP,       /* a group name, or empty */
        T_MODE,        /* octal permission bits */
        T_BACKEND,
        T_CGROUP,
        T_UID_RANGE,
        T_COUNT,       /* 1 .. 1000000 */
        T_PREPARED,    /* 0 .. 64 */
        T_SHARE,       /* N% of the host's RAM (1..100), a size >= 1M, or infinity */
        T_STDIN_QUEUE, /* a size, 64K .. 1G */
        T_RETAIN,      /* a time, 0 allowed, at most a year */
        T_LOG_LEVEL,
        T_PRINCIPALS,  /* users and @groups */
        T_MEMORY,      /* a size > 0, or infinity */
        T_TASKS,       /* a count, or infinity */
        T_CPU,         /* a percentage, or empty */
        T_RUNTIME,     /* a time > 0, or infinity */
        T_PRIVATE_NET, /* bool: PrivateNetwork, yes = Network=none, no = host */
        T_NETWORK,     /* none | allowlist | host */
        T_HOSTS,       /* allowlist entries */
        T_BIND_RO,     /* [-]SRC[:DST] host paths */
        T_TMP,         /* a size >= 4K, not infinity */
        T_INODES,      /* 16 .. 16777216 */
        T_OUTPUT,      /* a size, or infinity */
        T_BOOL,
        T_RO_PATHS,    /* must stay empty */
        T_SYSCALLS,    /* @group names */
        T_REQUIRE,
};

struct key {
        const char *name;
        enum type type;
        size_t offset;
};

#define D(f) offsetof(struct sbd_conf, daemon.f)
static const struct key daemon_keys[] = {
        { "Socket", T_SOCKET, D(socket) },
        { "SocketGroup", T_GROUP, D(socket_group) },
        { "SocketMode", T_MODE, D(socket_mode) },
        { "StateDirectory", T_DIR, D(state_directory) },
        { "Backend", T_BACKEND, D(backend) },
        { "CgroupName", T_CGROUP, D(cgroup_name) },
        { "UidRange", T_UID_RANGE, D(uid_first) },
        { "MaxConnections", T_COUNT, D(max_connections) },
        { "MaxConnectionsPerUser", T_COUNT, D(max_connections_per_user) },
        { "MaxJobs", T_COUNT, D(max_jobs) },
        { "MaxJobsPerUser", T_COUNT, D(max_jobs_per_user) },
        { "RetainSec", T_RETAIN, D(retain_ms) },
        { "MaxRetainedJobs", T_COUNT, D(max_retained) },
        { "MaxRetainedJobsPerUser", T_COUNT, D(max_retained_per_user) },
        { "MaxJobsMemory", T_SHARE, D(jobs_memory_max) },
        { "MaxJobsMemoryPerUser", T_SHARE, D(jobs_memory_max_per_user) },
        { "StdinQueueMax", T_STDIN_QUEUE, D(stdin_queue_max) },
        { "PreparedSandboxes", T_PREPARED, D(prepared_sandboxes) },
        { "SandboxIdleTimeoutSec", T_RETAIN, D(sandbox_idle_ms) },
        { "SandboxMaxLifetimeSec", T_RETAIN, D(sandbox_lifetime_ms) },
        { "SandboxesPerClient", T_COUNT, D(sandboxes_per_client) },
        { "LogLevel", T_LOG_LEVEL, D(log_level) },
};
#undef D

static const struct key access_keys[] = {
        { "Admins", T_PRINCIPALS, offsetof(struct sbd_conf, admins) },
        { "Clients", T_PRINCIPALS, offsetof(struct sbd_conf, clients) },
};

#define P(f) offsetof(struct sbd_conf_profile, f)
static const struct key profile_keys[] = {
        { "MemoryMax", T_MEMORY, P(p.memory_max) },
        { "TasksMax", T_TASKS, P(p.tasks_max) },
        { "CPUQuota", T_CPU, P(p.cpu_percent) },
        { "RuntimeMaxSec", T_RUNTIME, P(p.timeout_ms) },
        { "PrivateNetwork", T_PRIVATE_NET, P(p.network) },
        { "Network", T_NETWORK, P(p.network) },
        { "AllowedHosts", T_HOSTS, P(allowed_hosts) },
        { "BindReadOnlyPaths", T_BIND_RO, P(bind_ro) },
        { "TmpSize", T_TMP, P(p.tmp_size) },
        { "TmpInodesMax", T_INODES, P(p.tmp_inodes_max) },
        { "WorkSizeMax", T_TMP, P(p.work_size_max) },
        { "WorkInodesMax", T_INODES, P(p.work_inodes_max) },
        { "OutputMax", T_OUTPUT, P(p.output_max) },
        { "OutputTruncate", T_BOOL, P(p.output_truncate) },
        { "ReadOnlyPaths", T_RO_PATHS, 0 },
        { "SystemCallFilter", T_SYSCALLS, P(syscall_filter) },
        { "Require", T_REQUIRE, P(require) },
        { "AllowedUsers", T_PRINCIPALS, P(allowed_users) },
};
#undef P

/* The syscall groups a profile may add to the job's baseline filter
 * (syscall_groups.h: the linux backend defines the same ones). */
#define SG_NAME(n) n,
static const char *const syscall_groups[] = { SB_SYSCALL_GROUP_NAMES(SG_NAME) };
#undef SG_NAME

const char *sbd_conf_syscall_group(const char *name)
{
        size_t i;

        for (i = 0; i < sizeof(syscall_groups) / sizeof(syscall_groups[0]); i++)
                if (strcmp(syscall_groups[i], name) == 0)
                        return syscall_groups[i];
        return NULL;
}

static const char *const requires[] = {
#define SBD_X_(e, name) name,
        SBD_CONF_REQUIRES(SBD_X_)
#undef SBD_X_
};

const char *sbd_conf_require_name(unsigned bit_index)
{
        return bit_index < SBD_REQ__COUNT ? requires[bit_index] : NULL;
}

/* Report a bad value and leave set_value(). */
#define BAD(...)                                        \
        do {                                            \
                sbd_conf_key_error(__VA_ARGS__);        \
                return;                                 \
        } while (0)

static int parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
        char *end;
        unsigned long long v;

        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return -EINVAL;
        *out = v;
        return 0;
}

static bool name_char(char ch)
{
        return isalnum((unsigned char)ch) || ch == '_' || ch == '-' || ch == '.';
}

/* A user or group name as useradd(8) accepts them (and a trailing '$'). */
static bool principal_valid(const char *s, size_t len)
{
        size_t i;

        if (len > 0 && s[0] == '@') {
                s++;
                len--;
        }
        if (len == 0 || len > 32 || s[0] == '-' || s[0] == '.')
                return false;
        for (i = 0; i < len; i++)
                if (!name_char(s[i]) && !(s[i] == '$' && i == len - 1))
                        return false;
        return true;
}

static bool path_valid(const char *s, size_t max)
{
        const char *p;

        if (s[0] != '/' || strlen(s) >= max)
                return false;
        for (p = s; (p = strstr(p, "/..")) != NULL; p += 3)
                if (p[3] == '/' || p[3] == '\0')
                        return false;
        return true;
}

static int set_string(struct parse *ps, char **field, const char *value)
{
        char *s = strdup(value);

        if (!s) {
                ps->oom = true;
                return -ENOMEM;
        }
        free(*field);
        *field = s;
        return 0;
}

/* The next space/tab-separated word at *pp (advanced past it), or NULL at
 * the end of the text. */
static const char *next_word(const char **pp, size_t *len)
{
        const char *p = *pp, *w;

        while (*p == ' ' || *p == '\t')
                p++;
        if (!*p) {
                *pp = p;
                return NULL;
        }
        w = p;
        while (*p && *p != ' ' && *p != '\t')
                p++;
        *len = (size_t)(p - w);
        *pp = p;
        return w;
}

/* Report a bad word of k's value, cut to 64 bytes for the message. */
static void word_error(struct parse *ps, const struct key *k, const char *w, size_t len,
                       const char *reason)
{
        char bad[80];

        snprintf(bad, sizeof(bad), "%.*s", (int)(len > 64 ? 64 : len), w);
        sbd_conf_key_error(ps, k->name, bad, reason);
}

/* A space-separated list; word_ok validates each word, reason says why not. */
static void set_list(struct parse *ps, const struct key *k, unsigned index,
                     struct sbd_conf_list *l, const char *value,
                     bool (*word_ok)(const char *w, size_t len), const char *reason)
{
        struct sbd_conf_list add = { 0 };
        const char *p = value, *w;
        size_t i, len;

        while ((w = next_word(&p, &len))) {
                if (!word_ok(w, len)) {
                        word_error(ps, k, w, len, reason);
                        sbd_conf_list_clear(&add);
                        return;
                }
                if (sbd_conf_list_add(&add, w, len) < 0) {
                        ps->oom = true;
                        sbd_conf_list_clear(&add);
                        return;
                }
        }
        /* First assignment in this text, or an empty one: start over. */
        if (!(ps->touched & (1ull << index)) || add.n == 0)
                sbd_conf_list_clear(l);
        ps->touched |= 1ull << index;
        for (i = 0; i < add.n; i++) {
                if (sbd_conf_list_add(l, add.v[i], strlen(add.v[i])) < 0) {
                        ps->oom = true;
                        break;
                }
        }
        sbd_conf_list_clear(&add);
}

static bool has_word(const char *value, const char *word)
{
        const char *p = value, *w;
        size_t len;

        while ((w = next_word(&p, &len)))
                if (len == strlen(word) && memcmp(w, word, len) == 0)
                        return true;
        return false;
}

static bool syscall_group_ok(const char *w, size_t len)
{
        size_t i;

        for (i = 0; i < sizeof(syscall_groups) / sizeof(syscall_groups[0]); i++)
                if (strlen(syscall_groups[i]) == len && memcmp(syscall_groups[i], w, len) == 0)
                        return true;
        return false;
}

static bool principal_ok(const char *w, size_t len)
{
        return principal_valid(w, len);
}

/* The proxy's own parser decides, so a profile never holds an entry the
 * proxy would refuse when a job starts. */
static bool allowed_host_ok(const char *w, size_t len)
{
        char entry[SBD_PROXY_ENTRY_SIZE];
        struct allow_entry e;

        if (len == 0 || len >= sizeof(entry))
                return false;
        memcpy(entry, w, len);
        entry[len] = '\0';
        return allow_entry_parse(entry, &e) == 0;
}

/* A list the policy packs into a fixed buffer (struct sb_policy): more
 * entries or bytes than it holds is an error, and the key keeps nothing. */
static void bound_list(struct parse *ps, const struct key *k, struct sbd_conf_list *l,
                       size_t max, size_t bytes_max)
{
        char why[64];
        size_t bytes = 0;

        for (size_t i = 0; i < l->n; i++)
                bytes += strlen(l->v[i]) + 1;
        if (l->n <= max && bytes <= bytes_max)
                return;
        snprintf(why, sizeof(why), "more than %zu entries or %zu bytes in all", max, bytes_max);
        sbd_conf_key_error(ps, k->name, "...", why);
        sbd_conf_list_clear(l);
}

static void set_allowed_hosts(struct parse *ps, const struct key *k, unsigned index,
                              struct sbd_conf_list *l, const char *value)
{

        set_list(ps, k, index, l, value, allowed_host_ok,
                 "not an allowlist entry (host, host:port, *.suffix[:port], [v6][:port])");
        bound_list(ps, k, l, SBD_CONF_ALLOWED_HOSTS_MAX, SBD_CONF_ALLOWED_HOSTS_BYTES);
}

/* An absolute, normalized path of len bytes: no empty, "." or ".."
 * component, no trailing slash, no ':' (the entry's separator); why not,
 * or NULL. */
static const char *bind_path_bad(const char *w, size_t len)
{
        size_t i, start;

        if (len == 0 || w[0] != '/')
                return "not an absolute path";
        if (len > SBD_CONF_BIND_PATH_MAX)
                return "longer than 255 bytes";
        if (len == 1)
                return NULL;
        for (i = 1, start = 1; i <= len; i++) {
                size_t n;

                if (i < len && w[i] != '/')
                        continue;
                n = i - start;
                if (n == 0 || (n == 1 && w[start] == '.') ||
                    (n == 2 && w[start] == '.' && w[start + 1] == '.'))
                        return "not normalized (empty, . or .. component, or trailing /)";
                start = i + 1;
        }
        return NULL;
}

/* Places the job's own mounts own: a host path bound there would hide
 * them (or be hidden). */
static const char *const bind_dst_refused[] = { "/proc", "/dev", "/sys", "/work", "/tmp" };

/* One "[-]SRC[:DST]" word; why it is refused, or NULL. */
static const char *bind_ro_bad(const char *w, size_t len)
{
        const char *colon, *src, *dst, *why;
        size_t slen, dlen, i;

        if (len && w[0] == '-') {
                w++;
                len--;
        }
        if (memchr(w, '\\', len))
                return "escapes are not supported";
        colon = memchr(w, ':', len);
        src = w;
        slen = colon ? (size_t)(colon - w) : len;
        dst = colon ? colon + 1 : w;
        dlen = colon ? len - slen - 1 : len;
        if (dst != w && memchr(dst, ':', dlen))
                return "options after DST (SRC:DST:OPTIONS) are not supported";
        if ((why = bind_path_bad(src, slen)) || (why = bind_path_bad(dst, dlen)))
                return why;
        if (dlen == 1)
                return "DST is /";
        for (i = 0; i < sizeof(bind_dst_refused) / sizeof(bind_dst_refused[0]); i++) {
                size_t n = strlen(bind_dst_refused[i]);

                if (dlen >= n && memcmp(dst, bind_dst_refused[i], n) == 0 &&
                    (dlen == n || dst[n] == '/'))
                        return "DST is /proc, /dev, /sys, /work or /tmp or under one (the job's "
                               "own mounts)";
        }
        return NULL;
}

static bool bind_ro_ok(const char *w, size_t len)
{
        return bind_ro_bad(w, len) == NULL;
}

static void set_bind_ro(struct parse *ps, const struct key *k, unsigned index,
                        struct sbd_conf_list *l, const char *value)
{
        const char *p = value, *w, *why;
        size_t len;

        /* Each word's own reason first; set_list then stores them. */
        while ((w = next_word(&p, &len)))
                if ((why = bind_ro_bad(w, len))) {
                        word_error(ps, k, w, len, why);
                        return;
                }
        set_list(ps, k, index, l, value, bind_ro_ok, "not [-]SRC[:DST]");
        bound_list(ps, k, l, SBD_CONF_BIND_RO_MAX, SBD_CONF_BIND_RO_BYTES);
}

static int require_bit(const char *w, size_t len)
{
        unsigned i;

        for (i = 0; i < SBD_REQ__COUNT; i++)
                if (strlen(requires[i]) == len && memcmp(requires[i], w, len) == 0)
                        return (int)i;
        return -1;
}

static void set_require(struct parse *ps, const struct key *k, uint32_t *field,
                        const char *value)
{
        const char *p = value, *w;
        uint32_t bits = 0;
        size_t len;

        while ((w = next_word(&p, &len))) {
                int b = require_bit(w, len);

                if (b < 0) {
                        word_error(ps, k, w, len,
                                   "unknown guarantee (namespaces cgroup seccomp landlock "
                                   "no-new-privileges capabilities rlimits uid network "
                                   "files memory kill-tree)");
                        return;
                }
                bits |= 1u << b;
        }
        /* Like a list: the first assignment in a text replaces. */
        if (!(ps->touched & (1ull << 63)) || bits == 0)
                *field = 0;
        ps->touched |= 1ull << 63;
        *field |= bits;
}

static void set_value(struct parse *ps, void *base, const struct key *k, unsigned index,
                      const char *value)
{
        void *field = (char *)base + k->offset;
        uint64_t v;
        uint32_t pct;
        bool b;

        switch (k->type) {
        case T_SOCKET:
                if (!path_valid(value, 108))
                        BAD(ps, k->name, value,
                                                  "not an absolute path of at most 107 bytes "
                                                  "without \"..\"");
                set_string(ps, field, value);
                return;
        case T_DIR:
                if (!path_valid(value, 4096) || strcmp(value, "/") == 0)
                        BAD(ps, k->name, value,
                                                  "not an absolute path without \"..\"");
                set_string(ps, field, value);
                return;
        case T_GROUP:
                if (*value && (value[0] == '@' || !principal_valid(value, strlen(value))))
                        BAD(ps, k->name, value, "invalid group name");
                set_string(ps, field, value);
                return;
        case T_MODE: {
                char *end;
                unsigned long m;

                errno = 0;
                m = strtoul(value, &end, 8);
                if (!*value || !isdigit((unsigned char)*value) || *end || errno || m > 0777)
                        BAD(ps, k->name, value,
                                                  "not an octal mode between 0000 and 0777");
                if (!(m & 0600))
                        BAD(ps, k->name, value,
                                                  "the owner (root) needs read and write");
                *(uint32_t *)field = (uint32_t)m;
                return;
        }
        case T_BACKEND:
                if (strcmp(value, "auto") != 0 && strcmp(value, "linux") != 0 &&
                    strcmp(value, "macos") != 0 && strcmp(value, "posix") != 0)
                        BAD(ps, k->name, value,
                                                  "unknown backend (auto, linux, macos or posix)");
                set_string(ps, field, value);
                return;
        case T_CGROUP: {
                const char *p;

                for (p = value; *p && name_char(*p); p++)
                        ;
                if (!*value || *p || value[0] == '.' || strlen(value) > 64)
                        BAD(ps, k->name, value,
                                                  "invalid cgroup name (A-Z a-z 0-9 - _ ., "
                                                  "not starting with '.')");
                set_string(ps, field, value);
                return;
        }
        case T_UID_RANGE: {
                uint64_t a, b2;
                const char *dash = strchr(value, '-');
                char first[32];

                if (!dash || (size_t)(dash - value) >= sizeof(first))
                        BAD(ps, k->name, value,
                                                  "not a range FIRST-LAST");
                snprintf(first, sizeof(first), "%.*s", (int)(dash - value), value);
                if (parse_count(first, 1, UINT32_MAX - 1, &a) < 0 ||
                    parse_count(dash + 1, 1, UINT32_MAX - 1, &b2) < 0 || b2 < a ||
                    b2 - a >= (1u << 20))
                        BAD(ps, k->name, value,
                                                  "not a range FIRST-LAST with 0 < FIRST <= "
                                                  "LAST and at most 1048576 ids");
                ps->c->daemon.uid_first = (uint32_t)a;
                ps->c->daemon.uid_last = (uint32_t)b2;
                return;
        }
        case T_COUNT:
                if (parse_count(value, 1, 1000000, &v) < 0)
                        BAD(ps, k->name, value,
                                                  "not a number between 1 and 1000000");
                *(uint32_t *)field = (uint32_t)v;
                return;
        case T_PREPARED:
                if (parse_count(value, 0, 64, &v) < 0)
                        BAD(ps, k->name, value, "not a number between 0 and 64");
                *(uint32_t *)field = (uint32_t)v;
                return;
        case T_SHARE: {
                struct sbd_conf_share *sh = (struct sbd_conf_share *)field;
                size_t len = strlen(value);

                if (len > 1 && value[len - 1] == '%') {
                        if (sbd_conf_parse_percent(value, &pct) < 0 || pct > 100)
                                BAD(ps, k->name, value, "not a percentage of the host's "
                                    "memory between 1% and 100%");
                        sh->bytes = 0;
                        sh->percent = pct;
                        return;
                }
                if (sbd_conf_parse_size(value, &v) < 0 ||
                    (v == 0 && strcmp(value, "infinity") != 0) || (v != 0 && v < (1u << 20)))
                        BAD(ps, k->name, value, "not a share of the host's memory (e.g. "
                            "75%), a size of at least 1M (e.g. 16G) or infinity");
                sh->bytes = v;
                sh->percent = 0;
                return;
        }
        case T_STDIN_QUEUE:
                if (sbd_conf_parse_size(value, &v) < 0 || v < (64u << 10) || v > (1u << 30))
                        BAD(ps, k->name, value, "not a size between 64K and 1G (e.g. 1M)");
                *(uint64_t *)field = v;
                return;
        case T_RETAIN:
                if (strcmp(value, "infinity") == 0 || sbd_conf_parse_time_ms(value, &v) < 0 ||
                    v > 366ull * 86400 * 1000)
                        BAD(ps, k->name, value,
                                                  "not a time span of at most a year "
                                                  "(e.g. 300, 5min)");
                *(uint64_t *)field = v;
                return;
        case T_LOG_LEVEL:
                if (strcmp(value, "debug") != 0 && strcmp(value, "info") != 0 &&
                    strcmp(value, "warning") != 0 && strcmp(value, "error") != 0)
                        BAD(ps, k->name, value,
                                                  "unknown level (debug, info, warning, error)");
                set_string(ps, field, value);
                return;
        case T_PRINCIPALS:
                set_list(ps, k, index, field, value, principal_ok,
                         "not a user name or @group name");
                return;
        case T_MEMORY:
                if (sbd_conf_parse_size(value, &v) < 0 ||
                    (v == 0 && strcmp(value, "infinity") != 0) ||
                    (v != 0 && v < (1u << 20)))
                        BAD(ps, k->name, value,
                                                  "not a size of at least 1M (e.g. 512M, 2G) "
                                                  "or infinity");
                *(uint64_t *)field = v;
                return;
        case T_TASKS:
                if (strcmp(value, "infinity") == 0)
                        v = 0;
                else if (parse_count(value, 1, 4194304, &v) < 0)
                        BAD(ps, k->name, value,
                                                  "not a number of tasks (1 to 4194304) "
                                                  "or infinity");
                *(uint64_t *)field = v;
                return;
        case T_CPU:
                if (*value == '\0')
                        pct = 0;
                else if (sbd_conf_parse_percent(value, &pct) < 0)
                        BAD(ps, k->name, value,
                                                  "not a percentage of one CPU (e.g. 50%, "
                                                  "200%) or empty");
                *(uint32_t *)field = pct;
                return;
        case T_RUNTIME:
                if (sbd_conf_parse_time_ms(value, &v) < 0 ||
                    (v == 0 && strcmp(value, "infinity") != 0))
                        BAD(ps, k->name, value,
                                                  "not a positive time span (e.g. 30, 30s, "
                                                  "5min, 500ms) or infinity");
                *(uint64_t *)field = v;
                return;
        case T_PRIVATE_NET:
                if (sbd_conf_parse_bool(value, &b) < 0)
                        BAD(ps, k->name, value, "not a boolean (yes/no)");
                snprintf(field, sizeof(((struct sbp_profile *)0)->network), "%s",
                         b ? "none" : "host");
                return;
        case T_NETWORK:
                if (strcmp(value, "none") != 0 && strcmp(value, "allowlist") != 0 &&
                    strcmp(value, "host") != 0)
                        BAD(ps, k->name, value, "not none, allowlist or host");
                snprintf(field, sizeof(((struct sbp_profile *)0)->network), "%s", value);
                return;
        case T_HOSTS:
                set_allowed_hosts(ps, k, index, field, value);
                return;
        case T_BIND_RO:
                set_bind_ro(ps, k, index, field, value);
                return;
        case T_TMP:
                if (sbd_conf_parse_size(value, &v) < 0 || v < 4096)
                        BAD(ps, k->name, value,
                                                  "not a size of at least 4K (e.g. 64M)");
                *(uint64_t *)field = v;
                return;
        case T_INODES:
                /* The bound is a tmpfs's nr_inodes: a number, never
                 * infinity (that would be half the host's RAM pages). */
                if (parse_count(value, 16, 16u << 20, &v) < 0)
                        BAD(ps, k->name, value, "not a number between 16 and 16777216");
                *(uint64_t *)field = v;
                return;
        case T_OUTPUT:
                if (sbd_conf_parse_size(value, &v) < 0 ||
                    (v == 0 && strcmp(value, "infinity") != 0))
                        BAD(ps, k->name, value,
                                                  "not a size (e.g. 16M) or infinity");
                *(uint64_t *)field = v;
                return;
        case T_BOOL:
                if (sbd_conf_parse_bool(value, &b) < 0)
                        BAD(ps, k->name, value, "not a boolean (yes/no)");
                *(bool *)field = b;
                return;
        case T_RO_PATHS:
                if (*value)
                        BAD(ps, k->name, value,
                                                  "not supported: the job's file system is "
                                                  "fixed (system directories read-only, /work "
                                                  "and /tmp private); leave it empty");
                return;
        case T_SYSCALLS:
                if (value[0] == '~')
                        BAD(ps, k->name, value,
                                                  "deny lists (~) are not supported; list the "
                                                  "groups to allow");
                if (has_word(value, SB_SG_KEYRING))
                        BAD(ps, k->name, value,
                            "@keyring is not offered: the kernel keeps one user keyring per "
                            "uid for as long as the host runs, not per job, so a key one job "
                            "adds would be read by the next job given the same uid");
                set_list(ps, k, index, field, value, syscall_group_ok,
                         "unknown syscall group (e.g. @debug, @network-io)");
                return;
        case T_REQUIRE:
                set_require(ps, k, field, value);
                return;
        }
}

static void set_from(struct parse *ps, const struct key *keys, size_t n, void *base,
                     const char *section, const char *key, const char *value)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (strcmp(keys[i].name, key) == 0) {
                        set_value(ps, base, &keys[i], (unsigned)i, value);
                        return;
                }
        }
        sbd_conf_key_error(ps, key, NULL, section);
}

void sbd_conf_set_daemon(struct parse *ps, const char *key, const char *value)
{
        set_from(ps, daemon_keys, sizeof(daemon_keys) / sizeof(daemon_keys[0]), ps->c,
                 "unknown key in [Daemon]", key, value);
}

void sbd_conf_set_access(struct parse *ps, const char *key, const char *value)
{
        set_from(ps, access_keys, sizeof(access_keys) / sizeof(access_keys[0]), ps->c,
                 "unknown key in [Access]", key, value);
}

void sbd_conf_set_profile(struct parse *ps, struct sbd_conf_profile *p, const char *key,
                          const char *value)
{
        set_from(ps, profile_keys, sizeof(profile_keys) / sizeof(profile_keys[0]), p,
                 "unknown key in [Profile]", key, value);
}
