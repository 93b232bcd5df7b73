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

/* r holds the same answer as fr, byte for byte. */
static inline void assert_same_json(loy_result *r, loy_result *fr)
{
    char *got = json_of(r), *want = json_of(fr);
    assert_string_equal(got, want);
    free(got);
    free(want);
}

#endif
