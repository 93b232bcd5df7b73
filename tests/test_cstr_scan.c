/*
 * The setters find a caller's string's length by reading the aligned
 * 16-byte blocks it lies in (loy_cstr_scan, lib/event.h) and take a path
 * without calls when it fits (sset_fast, lib/event.c). Here the scan is
 * compared with strlen for every length and alignment, with junk, NULs and
 * high bytes around the string, and with strings that end at the last
 * byte of a page whose next page is not mapped (a read past the block the
 * NUL is in would fault). Then every setter is compared with the
 * general way it shortcuts, written out below as it was: the same bytes,
 * length and mark (plain or given) in fresh and reused buffers.
 */
#define _DEFAULT_SOURCE 1    /* MAP_ANONYMOUS */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "loyalty.h"
#include "event.h"
#include "policy.h"
#include "support/test_rng.h"
#include "support/one_tier.h"

/* A random byte: mostly ASCII letters, sometimes NUL or a high byte. */
static char junk(rng *r)
{
    int k = pick(r, 10);
    if (k == 0)
        return 0;
    if (k == 1)
        return (char)(0x80 + pick(r, 128));
    return (char)('a' + pick(r, 26));
}

static void fill_string(rng *r, char *s, size_t len, bool high)
{
    for (size_t i = 0; i < len; i++) {
        s[i] = (char)('A' + pick(r, 58));
        if (high && pick(r, 8) == 0)
            s[i] = (char)(0x80 + pick(r, 128));
    }
    s[len] = 0;
}

static void scan_against_strlen(void **state)
{
    (void)state;
#ifdef LOY_HAVE_CSCAN
    rng r = {7};
    long page = sysconf(_SC_PAGESIZE);
    char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
    char *end = map + page;
    for (int round = 0; round < 200; round++) {
        for (size_t len = 0; len < 70; len++) {
            for (size_t mis = 0; mis < 16; mis++) {
                /* in the middle of the page, junk all around */
                char *s = map + 512 + mis;
                for (char *q = map + 256; q < map + 1024; q++)
                    *q = junk(&r);
                fill_string(&r, s, len, true);
                size_t n = 99;
                bool ok = loy_cstr_scan(s, &n);
                assert_int_equal(ok, mis + len < 48);
                if (ok)
                    assert_int_equal(n, strlen(s));
                /* ending on the page's last byte */
                if (len + 1 + mis <= 1024 && round == 0) {
                    char *t = end - len - 1;
                    if (((uintptr_t)t & 15) == mis || mis == 0) {
                        fill_string(&r, t, len, true);
                        ok = loy_cstr_scan(t, &n);
                        assert_int_equal(ok, ((uintptr_t)t & 15) + len < 48);
                        if (ok)
                            assert_int_equal(n, len);
                    }
                }
            }
        }
    }
    /* every start in the page's last 64 bytes, every length that fits */
    for (char *t = end - 64; t < end; t++) {
        for (size_t len = 0; t + len < end; len++) {
            memset(map + page - 128, 'x', 128);
            fill_string(&r, t, len, false);
            size_t n = 99;
            bool ok = loy_cstr_scan(t, &n);
            assert_int_equal(ok, ((uintptr_t)t & 15) + len < 48);
            if (ok)
                assert_int_equal(n, len);
        }
    }
    munmap(map, (size_t)page * 2);
#else
    skip();
#endif
}

/* The general way: sset as it was before the scan. A string that needs a
 * bigger buffer takes loy_sbuf_set, which claims nothing. */
static void ref_set(loy_sbuf *b, const char *s, bool instant, size_t cap_before)
{
    if (!s) {
        b->set = LOY_SBUF_UNSET;
        b->len = 0;
        return;
    }
    size_t len = strlen(s);
    b->len = len;
    bool plain = !instant && len >= 1 && len <= 15 && len < cap_before;
    for (size_t i = 0; i < len; i++)
        plain = plain && !((unsigned char)s[i] & 0x80);
    b->set = plain ? LOY_SBUF_PLAIN : LOY_SBUF_GIVEN;
}

static void same(const loy_sbuf *got, const loy_sbuf *want, const char *s)
{
    assert_int_equal(got->set, want->set);
    assert_int_equal(got->len, want->len);
    if (got->set) {
        assert_true(got->cap > got->len && got->cap >= LOY_SBUF_MIN);
        assert_memory_equal(got->s, s, got->len + 1);
    }
}

static const char policy_yaml[] =
    ONE_TIER_POLICY("Fast");

/* A string of len bytes at alignment mis in a heap block of exactly its
 * size (ASan checks the copies stay inside it), or NULL now and then. */
static char *make(rng *r, size_t len, bool high, bool maybe_null)
{
    if (maybe_null && pick(r, 12) == 0)
        return NULL;
    char *s = malloc(len + 1);
    assert_non_null(s);
    fill_string(r, s, len, high);
    return s;
}

static void setters_against_general(void **state)
{
    (void)state;
    loy_policy *p = NULL;
    loy_diag *diag = NULL;
    assert_int_equal(loy_policy_load_buffer(&p, policy_yaml, sizeof policy_yaml - 1, "scan.yaml", &diag), LOY_OK);
    loy_diag_free(diag);
    loy_event *ev = NULL;
    assert_int_equal(loy_event_new(&ev, p), LOY_OK);
    rng r = {11};
    for (int round = 0; round < 20000; round++) {
        /* lengths up and down so buffers are reused, grown and too small */
        size_t maxlen = (size_t)(round % 7 == 0 ? 60 : 20);
        bool high = pick(&r, 3) == 0;
        char *id = make(&r, (size_t)pick(&r, (int)maxlen), high, true);
        char *at = make(&r, (size_t)(pick(&r, 4) ? 25 : pick(&r, (int)maxlen)), high, true);
        loy_sbuf want_id = {0}, want_at = {0};
        ref_set(&want_id, id, false, ev->id.cap);
        ref_set(&want_at, at, true, ev->at.cap);
        assert_int_equal(loy_event_reset(ev, LOY_EVENT_ORDER, id, at), LOY_OK);
        same(&ev->id, &want_id, id);
        same(&ev->at, &want_at, at);

        char *ch = make(&r, (size_t)pick(&r, (int)maxlen), high, true);
        loy_sbuf want = {0};
        ref_set(&want, ch, false, ev->channel.cap);
        assert_int_equal(loy_event_set_channel(ev, ch), LOY_OK);
        same(&ev->channel, &want, ch);
        char *st = make(&r, (size_t)pick(&r, (int)maxlen), high, true);
        ref_set(&want, st, false, ev->store.cap);
        assert_int_equal(loy_event_set_store(ev, st), LOY_OK);
        same(&ev->store, &want, st);

        int lines = pick(&r, 10);
        for (int i = 0; i < lines; i++) {
            char *sku = make(&r, (size_t)pick(&r, (int)maxlen), high, true);
            char *cat = make(&r, (size_t)pick(&r, (int)maxlen), high, true);
            int64_t amount = (int64_t)(next(&r) % 100000) - 10, qty = pick(&r, 5);
            size_t at_line = ev->line_count;
            size_t sku_cap = at_line < ev->line_cap ? ev->lines[at_line].sku.cap : 0;
            size_t cat_cap = at_line < ev->line_cap ? ev->lines[at_line].category.cap : 0;
            assert_int_equal(loy_event_add_line(ev, sku, cat, amount, qty), LOY_OK);
            const loy_line *l = &ev->lines[ev->line_count - 1];
            assert_int_equal(ev->line_count, (size_t)i + 1);
            assert_true(ev->fields & LOY_F_LINES);
            assert_int_equal(l->amount, amount);
            assert_int_equal(l->qty, qty);
            loy_sbuf ws = {0}, wc = {0};
            ref_set(&ws, sku, false, sku_cap);
            ref_set(&wc, cat, false, cat_cap);
            same(&l->sku, &ws, sku);
            same(&l->category, &wc, cat);
            free(sku);
            free(cat);
        }
        free(id);
        free(at);
        free(ch);
        free(st);
    }
    loy_event_free(ev);
    loy_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scan_against_strlen),
        cmocka_unit_test(setters_against_general),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
