/*
 * `loyalty check POLICY...` (POLICY.md §12): for each file, named as given,
 * either
 *   FILE: ok, N tiers, N multipliers, N actions, N gifts, N benefits, N plans, N stages, fingerprint HEX
 * or every load error as FILE:LINE:COL: message (FILE: message for an error
 * without a position, such as a file that cannot be read). Everything goes
 * to stdout, in the order of the arguments. Exit status: 1 when any file
 * does not load, 0 when all do, 2 for a usage error.
 */
#include "cli.h"

#include <string.h>

static int check_one(const char *path)
{
    loy_policy *policy = NULL;
    loy_diag *diag = NULL;
    int rc = loy_policy_load_file(&policy, path, &diag);
    if (rc == LOY_OK) {
        char hex[17];
        loy_policy_fingerprint_hex(policy, hex);
        printf("%s: ok, %zu tiers, %zu multipliers, %zu actions, %zu gifts, %zu benefits, %zu plans, "
               "%zu stages, fingerprint %s\n",
               path, loy_policy_count(policy, LOY_KIND_TIER), loy_policy_count(policy, LOY_KIND_MULTIPLIER),
               loy_policy_count(policy, LOY_KIND_ACTION), loy_policy_count(policy, LOY_KIND_GIFT),
               loy_policy_count(policy, LOY_KIND_BENEFIT), loy_policy_count(policy, LOY_KIND_PLAN),
               loy_policy_count(policy, LOY_KIND_STAGE), hex);
        loy_policy_free(policy);
        loy_diag_free(diag);
        return 0;
    }
    size_t count = loy_diag_count(diag);
    for (size_t i = 0; i < count; i++) {
        unsigned line = loy_diag_line(diag, i), col = loy_diag_column(diag, i);
        if (line)
            printf("%s:%u:%u: %s\n", path, line, col, loy_diag_message(diag, i));
        else
            printf("%s: %s\n", path, loy_diag_message(diag, i));
    }
    if (count == 0)
        printf("%s: %s\n", path, loy_strerror(rc));
    loy_diag_free(diag);
    return 1;
}

int loy_cli_check(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: loyalty check POLICY...\n", stderr);
        return 2;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        if (check_one(argv[i]) != 0)
            status = 1;
        fflush(stdout);
    }
    return status;
}
