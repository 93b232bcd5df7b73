/*
 * Random policies for the differential tests of the plans compiled at load
 * (stages, surprises): a `when` map of random entries, loading with the
 * diagnostics shown on failure, and members with figures either side of
 * every threshold those policies write. Each test brings its own entry
 * generator, for the predicates its plan compiles.
 *
 * Include after <cmocka.h>, "member.h", "engine/engine.h" and
 * "support/test_rng.h".
 */
#ifndef COND_GEN_H
#define COND_GEN_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static inline void add(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline void add(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
}

/* One entry of a `when` map, without the braces. */
typedef void random_entry_fn(rng *r, char *out, size_t cap, int depth);

/* ", when: {...}" of up to three entries, or of none. A map's keys are
 * distinct: an entry whose key is taken is left out. */
static inline void add_random_when(rng *r, char *y, size_t cap, random_entry_fn *entry)
{
    int entries = pick(r, 6) == 0 ? 0 : 1 + pick(r, 3);
    char keys[3][64];
    int kept = 0;
    add(y, cap, ", when: {");
    for (int k = 0; k < entries; k++) {
        char e[600];
        entry(r, e, sizeof e, 0);
        size_t kl = strcspn(e, ":");
        bool taken = false;
        for (int i = 0; i < kept; i++)
            taken |= strlen(keys[i]) == kl && strncmp(keys[i], e, kl) == 0;
        if (taken || kl >= sizeof keys[0])
            continue;
        memcpy(keys[kept], e, kl);
        keys[kept][kl] = '\0';
        add(y, cap, "%s%s", kept ? ", " : "", e);
        kept++;
    }
    add(y, cap, "}");
}

/* An any, all or not group around entries one level deeper, from the same
 * generator (which keeps groups from nesting further by its depth). */
static inline void random_group(rng *r, char *out, size_t cap, int depth, random_entry_fn *entry)
{
    char a[512], b[512];
    entry(r, a, sizeof a, depth + 1);
    entry(r, b, sizeof b, depth + 1);
    switch (pick(r, 3)) {
    case 0: snprintf(out, cap, "any: [{%s}, {%s}]", a, b); break;
    case 1: snprintf(out, cap, "all: [{%s}, {%s}]", a, b); break;
    default: snprintf(out, cap, "not: {%s}", a); break;
    }
}

/* The policy y, which must load; its text and diagnostics are printed when
 * it does not. */
static inline loy_policy *load_generated(const char *y, const char *name)
{
    loy_policy *p = NULL;
    loy_diag *d = NULL;
    int rc = loy_policy_load_buffer(&p, y, strlen(y), name, &d);
    if (rc != LOY_OK) {
        fprintf(stderr, "%s\n", y);
        for (size_t i = 0; i < loy_diag_count(d); i++)
            fprintf(stderr, "%u: %s\n", loy_diag_line(d, i), loy_diag_message(d, i));
    }
    loy_diag_free(d);
    assert_int_equal(rc, LOY_OK);
    return p;
}

/* A member with orders in some of the months around `day`, and figures on
 * either side of every threshold the policies write. */
static inline void random_member(rng *r, loy_member *m, loy_day day)
{
    m->month_count = 0;
    loy_month now = loy_month_of(day);
    int64_t in_buckets = 0;
    for (int k = 0; k < 16; k++) {
        if (pick(r, 3) == 0)
            continue;
        loy_month_bucket *b = loy_bucket(m, now - 15 + k + (pick(r, 5) == 0 ? 1 : 0));
        assert_non_null(b);
        b->orders = pick(r, 4) == 0 ? pick(r, 3) : 0;
        in_buckets += b->orders;
    }
    m->orders = in_buckets + (pick(r, 3) == 0 ? pick(r, 5) : 0);
    m->joined = day - pick(r, 900);
    m->last_order = pick(r, 4) == 0 ? LOY_DAY_NONE : day - pick(r, 500);
    m->tier = pick(r, 3);
}

#endif
