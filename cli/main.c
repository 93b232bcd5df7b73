/* `loyalty`: the command dispatcher and the helpers the commands share. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void loy_cli_usage(FILE *out)
{
    fputs("usage: loyalty <command> [arguments]\n"
          "\n"
          "  loyalty check POLICY...\n"
          "      check policy files; print a summary or every error as FILE:LINE:COL: message\n"
          "  loyalty replay POLICY EVENTS.jsonl [--state-in FILE] [--state-out FILE] [--trace]\n"
          "      replay one member's events; one JSON result per line on stdout\n"
          "  loyalty simulate POLICY HISTORY.jsonl [--compare OTHER_POLICY] [--json] [--jobs N]\n"
          "      replay many members' histories and report tiers, points, gifts and benefits\n"
          "  loyalty version\n"
          "      print the library's version\n"
          "  loyalty help\n"
          "      print this text\n"
          "\n"
          "Exit status: 0 success, 1 a policy does not load (check), 2 usage or input error.\n",
          out);
}

int loy_cli_read_file(const char *path, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno ? errno : EIO;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return ENOMEM;
    }
    for (;;) {
        if (cap - n < 2) {
            if (cap > SIZE_MAX / 2) {
                free(buf);
                fclose(f);
                return ENOMEM;
            }
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                fclose(f);
                return ENOMEM;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int err = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (err) {
        free(buf);
        return err;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

loy_policy *loy_cli_load_policy(const char *path)
{
    loy_policy *policy = NULL;
    loy_diag *diag = NULL;
    int rc = loy_policy_load_file(&policy, path, &diag);
    if (rc == LOY_OK) {
        loy_diag_free(diag);
        return policy;
    }
    size_t count = diag ? loy_diag_count(diag) : 0;
    for (size_t i = 0; i < count; i++) {
        const char *file = loy_diag_file(diag);
        if (!file || !file[0])
            file = path;
        /* Line 0 means the error has no position (the file could not be read). */
        if (loy_diag_line(diag, i) == 0)
            fprintf(stderr, "%s: %s\n", file, loy_diag_message(diag, i));
        else
            fprintf(stderr, "%s:%u:%u: %s\n", file, loy_diag_line(diag, i),
                    loy_diag_column(diag, i), loy_diag_message(diag, i));
    }
    if (count == 0)
        fprintf(stderr, "loyalty: %s: %s\n", path,
                rc == LOY_E_IO ? "cannot read the policy file" : loy_strerror(rc));
    loy_diag_free(diag);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        loy_cli_usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "check") == 0)
        return loy_cli_check(argc - 1, argv + 1);
    if (strcmp(cmd, "replay") == 0)
        return loy_cli_replay(argc - 1, argv + 1);
    if (strcmp(cmd, "simulate") == 0)
        return loy_cli_simulate(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        if (argc != 2) {
            loy_cli_usage(stderr);
            return 2;
        }
        printf("loyalty %s\n", loy_version());
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        loy_cli_usage(stdout);
        return 0;
    }
    fprintf(stderr, "loyalty: unknown command '%s'\n\n", cmd);
    loy_cli_usage(stderr);
    return 2;
}
