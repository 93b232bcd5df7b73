/*
 * The `loyalty` program (POLICY.md §12): one file per command, dispatched by
 * cli/main.c. Each command is a sub-main: argv[0] is the command word
 * ("check", "replay", "simulate"), argv[1..argc-1] its arguments, and the
 * return value is the process's exit status (0 success; 1 `check` found a
 * policy that does not load; 2 a usage error or input that cannot be used).
 *
 * The commands are callers of the public API (include/loyalty.h). replay
 * and simulate also use the wire's JSON reader (lib/wire/json.h) to check
 * every line before they print anything and to find member boundaries.
 */
#ifndef LOY_CLI_H
#define LOY_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "loyalty.h"

int loy_cli_check(int argc, char **argv);      /* cli/check.c */
int loy_cli_replay(int argc, char **argv);     /* cli/replay.c */
int loy_cli_simulate(int argc, char **argv);   /* cli/simulate.c */

/* Helpers shared by the commands (cli/main.c). */

/* The whole file, NUL-terminated (not counted in *len); the caller frees
 * *data with free(). Returns 0 or an errno value. */
int loy_cli_read_file(const char *path, char **data, size_t *len);
/* Load a policy, printing every load error as FILE:LINE:COL: message on
 * stderr. NULL when it does not load. */
loy_policy *loy_cli_load_policy(const char *path);
/* The usage text. */
void loy_cli_usage(FILE *out);

#endif
