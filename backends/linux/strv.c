/* strv.c — argv and envp as one block of NUL-terminated strings, argv's
 * first: how the spawn plan (plan.h) and the start request of a
 * prepared sandbox (start.c) carry them.
 *
 * measure and pack run in the daemon; unpack runs in the spawner and in a
 * sandboxed child, so it allocates nothing and trusts no count: every
 * string must end inside the block.
 */
#include <errno.h>
#include <string.h>

#include "backends/linux/linux.h"

size_t sb_linux_strv_measure(char *const *argv, char *const *envp, uint32_t *argc,
                             uint32_t *envc)
{
        size_t len = 0;
        uint32_t a = 0, e = 0;

        for (; argv && argv[a]; a++)
                len += strlen(argv[a]) + 1;
        for (; envp && envp[e]; e++)
                len += strlen(envp[e]) + 1;
        *argc = a;
        *envc = e;
        return len;
}

char *sb_linux_strv_pack(char *dst, char *const *argv, uint32_t argc, char *const *envp,
                         uint32_t envc)
{
        for (uint32_t i = 0; i < argc; i++)
                dst = stpcpy(dst, argv[i]) + 1;
        for (uint32_t i = 0; i < envc; i++)
                dst = stpcpy(dst, envp[i]) + 1;
        return dst;
}

int sb_linux_strv_unpack(char *s, size_t len, uint32_t argc, uint32_t envc, char **args)
{
        char *end = s + len;

        for (uint32_t i = 0; i < argc + envc; i++) {
                char *nul = s < end ? memchr(s, '\0', (size_t)(end - s)) : NULL;

                if (!nul)
                        return -EINVAL;
                args[i + (i >= argc)] = s;
                s = nul + 1;
        }
        args[argc] = NULL;
        args[argc + envc + 1] = NULL;
        return 0;
}
