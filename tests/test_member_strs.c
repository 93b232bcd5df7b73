/*
 * The member's string buffers (lib/member.c) against what they stand for:
 * loy_member_set_str copies short strings by fixed-size moves and grows
 * out of line, and a clear hands every lot id and tag to the spare list
 * with one check of its room. Each is compared with the plain definition:
 * the buffer holds exactly the bytes and a terminator, writes nothing past
 * it, and a drop gives back exactly the strings the member owned.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules_support.h"
#include "member.h"

#define MAXLEN 80

/* Every length from 0 to MAXLEN, into a fresh buffer, a reused one that is
 * larger (its bytes past the terminator must stay), and a spare's. */
static void test_set_str_every_length(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("apparel.yaml");
    loy_member *m = NULL;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    char src[MAXLEN + 4];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (char)('a' + (i * 7) % 26);

    for (size_t len = 0; len <= MAXLEN; len++) {
        /* fresh: no buffer and no spare */
        char *buf = NULL;
        size_t cap = 0;
        assert_true(loy_member_set_str(m, &buf, &cap, src + 1, len));
        assert_non_null(buf);
        assert_true(cap > len);
        assert_memory_equal(buf, src + 1, len);
        assert_int_equal(buf[len], '\0');

        /* reused, larger than needed: filled with a mark first */
        char *big = NULL;
        size_t big_cap = 0;
        assert_true(loy_member_set_str(m, &big, &big_cap, src, MAXLEN));
        memset(big, '#', big_cap);
        assert_true(loy_member_set_str(m, &big, &big_cap, src + 3, len));
        assert_memory_equal(big, src + 3, len);
        assert_int_equal(big[len], '\0');
        for (size_t i = len + 1; i < big_cap; i++)
            assert_int_equal(big[i], '#');

        /* a spare handed to an empty slot: the same buffer comes back */
        size_t spares = m->spare_count;
        char *kept = big;
        loy_member_drop_str(m, &big, &big_cap);
        assert_null(big);
        assert_int_equal(m->spare_count, spares + 1);
        assert_true(loy_member_set_str(m, &big, &big_cap, src + 2, len));
        assert_ptr_equal(big, kept);
        assert_int_equal(m->spare_count, spares);
        assert_memory_equal(big, src + 2, len);
        assert_int_equal(big[len], '\0');

        loy_member_drop_str(m, &buf, &cap);
        loy_member_drop_str(m, &big, &big_cap);
    }
    loy_member_free(m);
    loy_policy_free(p);
}

/* A clear gives every owned lot id and tag to the spare list, each once,
 * leaves the lots without ids, and the next strings come from the list. */
static void test_clear_hands_over_every_string(void **state)
{
    LOY_UNUSED(state);
    loy_policy *p = load_policy_file("apparel.yaml");
    loy_member *m = NULL;
    assert_int_equal(loy_member_new(&m, p, "M-STRS", "2024-01-01"), LOY_OK);
    for (int round = 0; round < 3; round++) {
        enum { LOTS = 9, TAGS = 5 };
        const size_t spares0 = m->spare_count;
        char *owned[LOTS + TAGS];
        size_t n_owned = 0;
        /* lots as the engine makes them: some with an order id, some without */
        assert_true(loy_grow(m->alloc, (void **)&m->lots, &m->lot_cap, LOTS, sizeof *m->lots));
        for (size_t i = 0; i < LOTS; i++) {
            loy_lot *lot = &m->lots[i];
            memset(lot, 0, sizeof *lot);
            lot->points = 1;
            lot->expires = lot->pending_until = lot->credited = LOY_DAY_NONE;
            lot->seq = (uint32_t)i;
            m->lot_count = i + 1;
            if ((i + (size_t)round) % 3 != 0) {
                char id[32];
                int len = snprintf(id, sizeof id, "ORDER-%d-%zu", round, i);
                assert_true(loy_member_set_str(m, &lot->order_id, &lot->order_id_cap, id, (size_t)len));
                owned[n_owned++] = lot->order_id;
            }
        }
        for (size_t i = 0; i < TAGS; i++) {
            char tag[16];
            snprintf(tag, sizeof tag, "t%d-%zu", round, i);
            assert_int_equal(loy_member_add_tag(m, tag), LOY_OK);
            owned[n_owned++] = m->tags[i];
        }
        const size_t spares_before = m->spare_count;
        assert_true(spares_before <= spares0);
        loy_member_clear(m);
        assert_int_equal(m->lot_count, 0);
        assert_int_equal(m->tag_count, 0);
        for (size_t i = 0; i < LOTS; i++) {
            assert_null(m->lots[i].order_id);
            assert_int_equal(m->lots[i].order_id_cap, 0);
        }
        for (size_t i = 0; i < TAGS; i++)
            assert_null(m->tags[i]);
        assert_int_equal(m->spare_count, spares_before + n_owned);
        /* each owned string once among the new spares */
        for (size_t k = 0; k < n_owned; k++) {
            size_t seen = 0;
            for (size_t j = spares_before; j < m->spare_count; j++)
                if (m->spare[j].s == owned[k])
                    seen++;
            assert_int_equal(seen, 1);
        }
        assert_int_equal(loy_member_init(m, "M-STRS", "2024-01-01"), LOY_OK);
    }
    loy_member_free(m);   /* ASan: every spare freed once */
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_str_every_length),
        cmocka_unit_test(test_clear_hands_over_every_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
