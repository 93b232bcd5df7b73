/*
 * The fuzz targets (fuzz/fuzz_*.c) as regression tests: every input under
 * fuzz/regressions/TARGET/ (each one a crash a fuzzer found, kept after the
 * fix) and fuzz/corpus/TARGET/ (the committed seeds) runs through the same
 * harness and checks as under libFuzzer, here built with gcc and
 * ASan+UBSan like every suite. A check that fails aborts the program.
 *
 * The harnesses are compiled into this program with their entry points
 * renamed, so `make test` needs neither clang nor libFuzzer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LLVMFuzzerTestOneInput fuzz_policy_one
#include "../fuzz/fuzz_policy.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_state_one
#include "../fuzz/fuzz_state.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_member_json_one
#include "../fuzz/fuzz_member_json.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_event_json_one
#include "../fuzz/fuzz_event_json.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_events_one
#include "../fuzz/fuzz_events.c"
#undef LLVMFuzzerTestOneInput

typedef int (*fuzz_fn)(const uint8_t *data, size_t size);

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every file of LOY_TEST_DIR/../fuzz/KIND/TARGET; returns how many. */
static size_t replay_dir(const char *kind, const char *target, fuzz_fn fn)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/../fuzz/%s/%s", LOY_TEST_DIR, kind, target);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL;
    size_t count = 0, cap = 0;
    for (struct dirent *ent; (ent = readdir(d)) != NULL;) {
        if (ent->d_name[0] == '.')
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof *names);
            assert_non_null(names);
        }
        names[count++] = strdup(ent->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof *names, name_cmp);
    for (size_t i = 0; i < count; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len = 0;
        char *data = fz_read_file(path, &len);
        assert_non_null(data);
        if (getenv("FUZZ_REPLAY_VERBOSE"))
            fprintf(stderr, "%s/%s/%s\n", kind, target, names[i]);
        fn((const uint8_t *)data, len);
        free(data);
        free(names[i]);
    }
    free(names);
    return count;
}

static void replay(const char *target, fuzz_fn fn, size_t min_seeds)
{
    size_t regressions = replay_dir("regressions", target, fn);
    size_t seeds = replay_dir("corpus", target, fn);
    if (getenv("FUZZ_REPLAY_VERBOSE"))
        fprintf(stderr, "%s: %zu regressions, %zu seeds\n", target, regressions, seeds);
    assert_true(seeds >= min_seeds);
}

static void test_replay_policy(void **s)
{
    (void)s;
    replay("fuzz_policy", fuzz_policy_one, 1);
}

static void test_replay_state(void **s)
{
    (void)s;
    replay("fuzz_state", fuzz_state_one, 1);
}

static void test_replay_member_json(void **s)
{
    (void)s;
    replay("fuzz_member_json", fuzz_member_json_one, 1);
}

static void test_replay_event_json(void **s)
{
    (void)s;
    replay("fuzz_event_json", fuzz_event_json_one, 1);
}

static void test_replay_events(void **s)
{
    (void)s;
    replay("fuzz_events", fuzz_events_one, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_policy),
        cmocka_unit_test(test_replay_state),
        cmocka_unit_test(test_replay_member_json),
        cmocka_unit_test(test_replay_event_json),
        cmocka_unit_test(test_replay_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
