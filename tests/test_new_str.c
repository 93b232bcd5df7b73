/*
 * A new lot's order id takes the member's last spare buffer inline when it
 * is long enough (lib/member.h, loy_member_set_new_str); otherwise it calls
 * loy_member_set_str. Here both are run on twin members holding the same
 * spares (of generated capacities, some too short, some none), for ids of
 * 0..40 bytes with and without a journal open: same string, same
 * capacity, same buffer taken, same spares left, same journal mark.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "loyalty.h"
#include "engine/engine.h"
#include "member.h"
#include "rules_support.h"
#include "support/test_rng.h"
#include "support/one_tier.h"

static const char policy_text[] =
    ONE_TIER_POLICY("Str");

/* Give m spares of these capacities (a buffer made by set_str, dropped). */
static void make_spares(loy_member *m, const size_t *caps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *buf = NULL;
        size_t cap = 0;
        char text[64];
        memset(text, 'x', caps[i] - 1);
        assert_true(loy_member_set_str(m, &buf, &cap, text, caps[i] - 1));
        loy_member_drop_str(m, &buf, &cap);
    }
}

static void new_str_against_set_str(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_text(policy_text);
    rng g = {5};
    loy_undo ua, ub;
    for (int round = 0; round < 4000; round++) {
        loy_member *a = NULL, *b = NULL;
        assert_int_equal(loy_member_new(&a, p, "A", "2020-01-01"), LOY_OK);
        assert_int_equal(loy_member_new(&b, p, "B", "2020-01-01"), LOY_OK);
        size_t caps[6];
        size_t n = (size_t)pick(&g, 7);
        for (size_t i = 0; i < n; i++)
            caps[i] = 1 + (size_t)pick(&g, 40);
        make_spares(a, caps, n);
        make_spares(b, caps, n);
        bool journal = pick(&g, 2);
        memset(&ua, 0, sizeof ua);
        memset(&ub, 0, sizeof ub);
        /* only made_str is read by either: the rest of the journal idles */
        a->undo = journal ? &ua : NULL;
        b->undo = journal ? &ub : NULL;
        char id[48];
        size_t len = (size_t)pick(&g, 41);
        for (size_t i = 0; i < len; i++)
            id[i] = (char)(' ' + pick(&g, 95));
        id[len] = 'Z';      /* past the length: never copied */
        size_t spare_a = a->spare_count ? a->spare_count - 1 : 0;
        char *last_a = a->spare_count ? a->spare[spare_a].s : NULL;
        char *sa = NULL, *sb = NULL;
        size_t ca = 0, cb = 0;
        assert_true(loy_member_set_new_str(a, &sa, &ca, id, len));
        assert_true(loy_member_set_str(b, &sb, &cb, id, len));
        assert_int_equal(strlen(sa), len);
        assert_memory_equal(sa, sb, len + 1);
        assert_int_equal(ca, cb);
        assert_int_equal(a->spare_count, b->spare_count);
        for (size_t i = 0; i < a->spare_count; i++)
            assert_int_equal(a->spare[i].cap, b->spare[i].cap);
        if (last_a && caps[n - 1] > len)
            assert_ptr_equal(sa, last_a);   /* the spare itself, not a new buffer */
        assert_int_equal(ua.made_str, ub.made_str);
        a->undo = b->undo = NULL;
        loy_member_drop_str(a, &sa, &ca);
        loy_member_drop_str(b, &sb, &cb);
        loy_member_free(a);
        loy_member_free(b);
    }
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_str_against_set_str),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
