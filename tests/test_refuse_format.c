/*
 * loy_format_simple (lib/engine/apply.c) writes the refusal messages
 * without vsnprintf. It must give vsnprintf's bytes exactly, or decline:
 * every conversion it takes is compared with snprintf over edge and random
 * values, strings up to past the buffer, and the formats it must leave to
 * vsnprintf (flags, widths, other conversions, NULL strings).
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine/engine.h"

static size_t taken, declined;

static __attribute__((format(printf, 4, 5))) bool simple(char *buf, size_t cap, size_t *len,
                                                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = loy_format_simple(buf, cap, fmt, ap, len);
    va_end(ap);
    return ok;
}

/* The fast path's text is snprintf's, or it declines. */
#define SAME(...)                                                    \
    do {                                                             \
        char fast_[512], ref_[512];                                  \
        size_t n_ = 0;                                               \
        int w_ = snprintf(ref_, sizeof ref_, __VA_ARGS__);           \
        if (simple(fast_, sizeof fast_, &n_, __VA_ARGS__)) {         \
            assert_string_equal(fast_, ref_);                        \
            assert_int_equal(n_, (size_t)w_);                        \
            taken++;                                                 \
        } else {                                                     \
            declined++;                                              \
        }                                                            \
    } while (0)

#define DECLINES(...)                                                \
    do {                                                             \
        char fast_[512];                                             \
        size_t n_ = 0;                                               \
        assert_false(simple(fast_, sizeof fast_, &n_, __VA_ARGS__)); \
    } while (0)

static uint64_t next(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return *s ^ (*s >> 29);
}

static void same_as_snprintf(void **state)
{
    (void)state;
    static const long long ll[] = {0, 1, -1, 9, 10, -10, 99, 100, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1,
                                   INT64_C(-9223372036854775807), INT64_C(1000000000000000000)};
    static const int ints[] = {0, 1, -1, 7, -42, INT_MAX, INT_MIN, INT_MIN + 1};
    static const unsigned uns[] = {0, 1, 10, UINT_MAX};
    static const size_t sizes[] = {0, 1, 255, 256, SIZE_MAX};
    static const unsigned long long ull[] = {0, 1, ULLONG_MAX, 18446744073709551615u - 1};
    for (size_t i = 0; i < sizeof ll / sizeof ll[0]; i++)
        for (size_t j = 0; j < sizeof ll / sizeof ll[0]; j++)
            SAME("%lld points asked, %lld available", ll[i], ll[j]);
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        SAME("step %d: %u of %zu, %llu %%", ints[i], uns[i % 4], sizes[i % 5], ull[i % 4]);
    SAME("no benefit '%s' in this policy", "free-shipping");
    SAME("%s", "");
    SAME("%%%s%%", "x");
    SAME("plain text");
    SAME("%s%s%s", "a", "", "bc");

    /* strings up to past the buffer: the fast path declines what would
     * not fit, and never writes past it */
    char big[700];
    uint64_t s = 1;
    for (size_t len = 0; len < sizeof big; len += 1 + next(&s) % 9) {
        for (size_t k = 0; k < len; k++)
            big[k] = (char)('a' + next(&s) % 26);
        big[len] = '\0';
        SAME("event '%s' was already applied", big);
        SAME("%s", big);
        long long v = (long long)next(&s);
        SAME("%s and %lld", big, v);
    }
    for (int k = 0; k < 20000; k++) {
        long long a = (long long)next(&s) >> (next(&s) % 64);
        long long b = -(long long)(next(&s) >> (next(&s) % 64));
        int d = (int)next(&s);
        unsigned u = (unsigned)next(&s);
        size_t z = (size_t)next(&s);
        SAME("%lld %lld %d %u %zu", a, b, d, u, z);
    }
    assert_true(taken > 20000);
    assert_true(declined > 0);
}

static void leaves_the_rest(void **state)
{
    (void)state;
    DECLINES("%5d", 3);
    DECLINES("%-3s", "x");
    DECLINES("%x", 3u);
    DECLINES("%ld", 3L);
    DECLINES("%c", 'x');
    DECLINES("%.2s", "xyz");
    const char *volatile none = NULL;   /* out of the compiler's sight */
    DECLINES("'%s'", none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_as_snprintf),
        cmocka_unit_test(leaves_the_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
