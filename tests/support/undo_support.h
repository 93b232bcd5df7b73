/*
 * Shared by the undo tests (test_undo.c, test_undo_parts.c), which hold a
 * member on long-lived handles against one freshly loaded from the same
 * state bytes, with the policy's allocations going through the test's
 * fault allocator too.
 *
 * Include after <cmocka.h>, "loyalty.h", "support/fault_alloc.h" and
 * "support/state_bytes.h".
 */
#ifndef UNDO_SUPPORT_H
#define UNDO_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>

/* A policy of the shared spec, loaded with fa disarmed: its allocations
 * are counted by fa, but none fails. */
static inline loy_policy *load_policy(fault_alloc *fa, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/policies/%s.yaml", LOY_SPEC_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size > 0);
    rewind(f);
    char *buf = malloc((size_t)size);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    loy_allocator a = {fault_malloc, fault_realloc, fault_free, fa};
    loy_policy *p = NULL;
    disarm(fa);
    assert_int_equal(loy_policy_load_buffer_ex(&p, buf, (size_t)size, name, NULL, &a), LOY_OK);
    free(buf);
    return p;
}

/* A fresh member holding the state bytes b. */
static inline loy_member *loaded(const loy_policy *p, const bytes *b)
{
    loy_member *m = NULL;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    assert_int_equal(loy_member_load(m, b->data, b->len), LOY_OK);
    return m;
}

/* A fresh member holding the state bytes b, with a new event and a
 * tracing result for it in *e and *r. */
static inline loy_member *loaded_traced(const loy_policy *p, const bytes *b, loy_result **r, loy_event **e)
{
    loy_member *m = loaded(p, b);
    *r = NULL;
    *e = NULL;
    assert_int_equal(loy_result_new(r, p), LOY_OK);
    assert_int_equal(loy_event_new(e, p), LOY_OK);
    loy_result_set_options(*r, LOY_RESULT_TRACE);
    return m;
}

/* r holds the same answer as fr, byte for byte. */
static inline void assert_same_json(loy_result *r, loy_result *fr)
{
    char *got = json_of(r), *want = json_of(fr);
    assert_string_equal(got, want);
    free(got);
    free(want);
}

/* Builds the event to apply, on a fresh or reset event handle. */
typedef void (*build_fn)(loy_event *e);

/*
 * Fail the k-th allocation of an apply, for every k the apply reaches,
 * once and from k on. A NOMEM refusal leaves the state bytes; then the
 * same event, on the same handles with the allocator back, gives the
 * answer and bytes of a run without faults; and nothing leaks.
 */
static inline void nomem_sweep(fault_alloc *fa, const loy_policy *p, const bytes *start, build_fn build,
                               long min_hits)
{
    for (int sticky = 0; sticky < 2; sticky++) {
        disarm(fa);
        long base_live = fa->live;
        loy_result *r;
        loy_event *e;
        loy_member *m = loaded_traced(p, start, &r, &e);
        build(e);
        int want_rc = loy_apply(p, m, e, r);
        char *want = json_of(r);
        bytes want_state = state_of(m);
        loy_event_free(e);
        loy_result_free(r);
        loy_member_free(m);

        long hits = 0;
        for (long k = 0; k < 100000; k++) {
            m = loaded_traced(p, start, &r, &e);
            build(e);
            arm(fa, k, sticky);
            int rc = loy_apply(p, m, e, r);
            long failures = fa->failures;
            disarm(fa);
            if (rc == LOY_E_NOMEM) {
                assert_true(failures > 0);
                assert_state(m, start);
                rc = loy_apply(p, m, e, r);
            }
            if (rc != want_rc)
                fail_msg("k=%ld: got %s, want %s", k, loy_error_name(rc), loy_error_name(want_rc));
            char *got = json_of(r);
            assert_string_equal(got, want);
            free(got);
            assert_state(m, &want_state);
            loy_event_free(e);
            loy_result_free(r);
            loy_member_free(m);
            if (fa->live != base_live)
                fail_msg("k=%ld: %ld blocks leaked", k, fa->live - base_live);
            if (failures == 0)
                break;
            hits++;
        }
        assert_true(hits >= min_hits);
        free(want);
        free(want_state.data);
    }
}

#endif
