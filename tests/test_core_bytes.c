/*
 * lib/core.h reads an event's strings a word at a time, with loads that
 * overlap near the end of the string. Each helper is compared with a byte
 * at a time reading of the same bytes, for every length up to 40 and every
 * byte class (plain, NUL, high), on buffers allocated to the exact length
 * so that the sanitizer refuses a read past the string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"

static uint64_t ref_low(const unsigned char *p, size_t n)
{
    uint64_t w = 0;
    for (size_t k = 0; k < n; k++)
        w |= (uint64_t)p[k] << (8 * k);
    return w;
}

static void ref_key(const unsigned char *s, size_t len, loy_str_key *k, bool *plain)
{
    k->len = len;
    k->w0 = ref_low(s, len < 8 ? len : 8);
    k->w1 = len > 8 ? ref_low(s + 8, len < 16 ? len - 8 : 8) : 0;
    *plain = true;
    for (size_t i = 0; i < len; i++)
        if (s[i] == 0 || s[i] >= 0x80)
            *plain = false;
}

static void check_bytes(const unsigned char *src, size_t len)
{
    unsigned char *s = malloc(len ? len : 1);
    assert_non_null(s);
    if (len)
        memcpy(s, src, len);
    if (len < 8)
        assert_true(loy_load_low(s, len) == ref_low(s, len));
    loy_str_key k, want;
    bool want_plain;
    memset(&k, 0x5a, sizeof k);
    bool plain = loy_str_key_of((const char *)s, len, &k);
    ref_key(s, len, &want, &want_plain);
    if (plain != want_plain || k.len != want.len || k.w0 != want.w0 || k.w1 != want.w1)
        fail_msg("key of %zu bytes: plain %d (want %d), w0 %llx (want %llx), w1 %llx (want %llx)", len,
                 plain, want_plain, (unsigned long long)k.w0, (unsigned long long)want.w0,
                 (unsigned long long)k.w1, (unsigned long long)want.w1);
    assert_int_equal(loy_utf8_ok((const char *)s, len), loy_utf8_valid((const char *)s, len));
    free(s);
}

static size_t vformat(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = loy_vformat(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

/* A message cut at its buffer's end keeps whole characters only, for
 * characters of every length at every position of the cut; an uncut one
 * is vsnprintf's. */
static void vformat_cuts_on_characters(void **state)
{
    (void)state;
    static const char *const chars[] = {"a", "\xc3\xa9", "\xe8\xae\xa2", "\xf0\x9f\x98\x80"};
    for (size_t c = 0; c < 4; c++) {
        char text[64] = "";
        for (int i = 0; i < 8; i++)
            strcat(text, chars[c]);
        size_t full = strlen(text);
        for (size_t cap = 1; cap <= full + 2; cap++) {
            char buf[80];
            memset(buf, 'x', sizeof buf);
            size_t n = vformat(buf, cap, "%s", text);
            assert_int_equal(strlen(buf), n);
            assert_true(n < cap);
            assert_memory_equal(buf, text, n);
            assert_true(loy_utf8_valid(buf, n));
            size_t step = strlen(chars[c]);
            /* the longest whole-character prefix that fits */
            assert_int_equal(n, (cap - 1 < full ? cap - 1 : full) / step * step);
        }
    }
    char buf[16];
    assert_int_equal(vformat(buf, sizeof buf, "%d-%s", 42, "ok"), 5);
    assert_string_equal(buf, "42-ok");
}

static void words_like_bytes(void **state)
{
    (void)state;
    unsigned char buf[40] = {0};
    uint64_t seed = 0x2545f4914f6cdd1dULL;
    const unsigned char odd[] = {0x00, 0x80, 0xc3, 0xa9, 0xff, 0x7f, 0x01};
    for (size_t len = 0; len <= sizeof buf; len++) {
        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)('a' + (i * 7 + len) % 26);
        check_bytes(buf, len);
        /* one odd byte in each place */
        for (size_t pos = 0; pos < len; pos++)
            for (size_t o = 0; o < sizeof odd; o++) {
                unsigned char keep = buf[pos];
                buf[pos] = odd[o];
                check_bytes(buf, len);
                buf[pos] = keep;
            }
        /* random bytes, mostly plain */
        for (int round = 0; round < 200; round++) {
            unsigned char r[40] = {0};
            for (size_t i = 0; i < len; i++) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                r[i] = (seed & 0xf00) == 0 ? (unsigned char)seed : (unsigned char)(0x20 + seed % 0x5f);
            }
            check_bytes(r, len);
        }
    }
    /* valid multi-byte UTF-8 across the word edges */
    const char *texts[] = {"会员价", "é", "abcdefgé", "abcdefghijklmnoé", "😀abcdefgh", "ab\xc3"};
    for (size_t t = 0; t < sizeof texts / sizeof *texts; t++)
        check_bytes((const unsigned char *)texts[t], strlen(texts[t]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(words_like_bytes),
        cmocka_unit_test(vformat_cuts_on_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
