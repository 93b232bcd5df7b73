/*
 * loy_intern_find (lib/policy.h) asks a 64-bit filter built at load before
 * it hashes a key: a clear bit answers -1 with no probe. Here it is compared
 * with the probe it shortcuts (loy_intern_probe) on the reference policies'
 * ids and on policies of many generated names, for every id's own key and
 * for many generated keys: lengths 1..40, every first byte, shared
 * prefixes, the ids cut, extended and with one byte changed. Same answer
 * (the id, or -1) every time, and every id is found.
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

typedef struct rng {
    uint64_t s;
} rng;

static uint32_t next(rng *r)
{
    r->s = r->s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return (uint32_t)(r->s >> 33);
}

static size_t pick(rng *r, size_t n)
{
    return n ? next(r) % n : 0;
}

/* Both paths on s[0..len) (s[len] == 0); the answer. */
static int32_t both(const loy_interned *t, const char *s, size_t len)
{
    loy_str_key k;
    loy_str_key_of(s, len, &k);
    int32_t fast = loy_intern_find(t, s, &k);
    int32_t general = loy_intern_probe(t, s, &k);
    if (fast != general)
        fail_msg("key \"%s\" (%zu bytes): filtered %d, probe %d", s, len, (int)fast, (int)general);
    return fast;
}

static size_t checked;

static void compare_on(const loy_policy *p, uint64_t seed)
{
    const loy_interned *t = &p->interned;
    /* The ids' own keys: each one found, as the probe finds it. */
    uint32_t found = 0;
    for (uint32_t i = 0; i <= t->mask; i++) {
        const loy_intern_slot *sl = &t->slots[i];
        if (!sl->s)
            continue;
        assert_int_equal(both(t, sl->s, sl->len), sl->id);
        found++;
        checked++;
    }
    assert_int_equal(found, t->count);

    char buf[64];
    /* Every first byte, every length 1..40, over a few fillers. */
    static const char fill[] = "aoe_-0x";
    for (unsigned b = 1; b < 256; b++)
        for (size_t len = 1; len <= 40; len++)
            for (size_t f = 0; f + 1 < sizeof fill; f++) {
                buf[0] = (char)b;
                memset(buf + 1, fill[f], len - 1);
                buf[len] = '\0';
                both(t, buf, len);
                checked++;
            }
    /* The ids cut, extended, with a byte changed, or sharing a prefix. */
    rng r = {seed};
    for (int n = 0; n < 200000 && t->count; n++) {
        const loy_intern_slot *sl;
        do
            sl = &t->slots[pick(&r, (size_t)t->mask + 1)];
        while (!sl->s);
        size_t len = sl->len < 40 ? sl->len : 40;
        memcpy(buf, sl->s, len);
        switch (pick(&r, 5)) {
        case 0: len = 1 + pick(&r, len); break;
        case 1:
            while (len < 40 && pick(&r, 2))
                buf[len++] = (char)(1 + pick(&r, 255));
            break;
        case 2: buf[pick(&r, len)] = (char)(1 + pick(&r, 255)); break;
        case 3: buf[0] = (char)(1 + pick(&r, 255)); break;
        default: break;
        }
        buf[len] = '\0';
        both(t, buf, len);
        checked++;
    }
}

static void reference_policies(void **state)
{
    (void)state;
    static const char *const names[] = {"apparel.yaml", "grocery.yaml", "minimal.yaml"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/policies/%s", LOY_SPEC_DIR, names[i]);
        loy_policy *p = NULL;
        assert_int_equal(loy_policy_load_file(&p, path, NULL), LOY_OK);
        compare_on(p, 11 + i);
        loy_policy_free(p);
    }
}

static void add(char *buf, size_t cap, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + used, cap - used, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < cap - used);
}

/* Policies of n generated categories and skus: lengths 1..40, shared
 * prefixes, first bytes over the printable range, so the filter goes
 * from sparse to full. */
static void generated_policies(void **state)
{
    (void)state;
    static const size_t counts[] = {1, 2, 5, 12, 30, 64, 200};
    static char yaml[1 << 16];
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        rng r = {1000 + c};
        yaml[0] = '\0';
        add(yaml, sizeof yaml,
            "loyalty_policy: 1\ntiers: {qualify_on: spend, levels: [{id: t0}]}\n"
            "points:\n  earn:\n    rate: {amount: 1, points: 1}\n    exclude:\n");
        for (int kind = 0; kind < 2; kind++) {
            add(yaml, sizeof yaml, "      %s: [", kind ? "skus" : "categories");
            for (size_t i = 0; i < counts[c]; i++) {
                char name[48];
                size_t len = 1 + pick(&r, 40);
                const char *prefix = pick(&r, 2) ? "shared-prefix-" : "";
                size_t pl = strlen(prefix) < len ? strlen(prefix) : 0;
                memcpy(name, prefix, pl);
                for (size_t j = pl; j < len; j++)
                    name[j] = (char)('0' + pick(&r, 75));    /* '0'..'z' */
                for (size_t j = 0; j < len; j++)
                    if (name[j] == '\\')
                        name[j] = '_';
                name[len] = '\0';
                add(yaml, sizeof yaml, "%s\"%s\"", i ? ", " : "", name);
            }
            add(yaml, sizeof yaml, "]\n");
        }
        loy_policy *p = NULL;
        assert_int_equal(loy_policy_load_buffer(&p, yaml, strlen(yaml), "g.yaml", NULL), LOY_OK);
        assert_true(p->interned.count > 0);
        compare_on(p, 77 + c);
        loy_policy_free(p);
    }
    assert_true(checked > 1000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_policies),
        cmocka_unit_test(generated_policies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
