/* standalone.c — main() for a fuzz harness built without libFuzzer.
 *
 * Runs LLVMFuzzerTestOneInput over every file named on the command line, or
 * found in a directory named there (one level: a corpus directory), and over
 * each file's first suffixes too (other starting points, so a harness that
 * reads its input in pieces sees other piece boundaries). Any compiler builds
 * it, so every build smoke-tests the corpus in the tree, regressions
 * included; under ASan/UBSan it is a small sanitizer test as well.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

#define SUFFIXES_MAX 64

static int run_file(const char *path)
{
        FILE *f = fopen(path, "rbe");
        uint8_t *buf;
        long n;

        if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
                fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
                if (f)
                        fclose(f);
                return -1;
        }
        /* n + 1: an empty file is an input too, and malloc(0) may be NULL. */
        buf = malloc((size_t)n + 1);
        if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
                fprintf(stderr, "%s: cannot read\n", path);
                free(buf);
                fclose(f);
                return -1;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t)n);
        for (size_t k = 1; k < (size_t)n && k < SUFFIXES_MAX; k++)
                LLVMFuzzerTestOneInput(buf + k, (size_t)n - k);
        free(buf);
        return 0;
}

static int run_dir(const char *path, unsigned *count)
{
        struct dirent **names;
        int n = scandir(path, &names, NULL, alphasort), r = 0;

        if (n < 0) {
                fprintf(stderr, "%s: cannot list: %s\n", path, strerror(errno));
                return -1;
        }
        for (int i = 0; i < n; i++) {
                char file[4096];
                struct stat st;

                if (names[i]->d_name[0] != '.' &&
                    snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name) <
                            (int)sizeof(file) &&
                    stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
                        if (run_file(file) < 0)
                                r = -1;
                        else
                                (*count)++;
                }
                free(names[i]);
        }
        free(names);
        return r;
}

int main(int argc, char **argv)
{
        unsigned count = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
                        return 1;
                }
                if (S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) < 0 : run_file(argv[i]) < 0)
                        return 1;
                if (!S_ISDIR(st.st_mode))
                        count++;
        }
        if (count == 0) {
                fprintf(stderr, "%s: no inputs\n", argv[0]);
                return 1;
        }
        printf("%s: %u inputs ok\n", argv[0], count);
        return 0;
}
