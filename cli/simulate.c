/* `loyalty simulate` (POLICY.md §12): not written yet. */
#include "cli.h"

int loy_cli_simulate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("loyalty simulate: not available yet\n", stderr);
    return 2;
}
