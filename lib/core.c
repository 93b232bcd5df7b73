/* Allocation, the arena, exact rational rounding, UTF-8 validation. */
#include "core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void *std_malloc(void *ctx, size_t n) { LOY_UNUSED(ctx); return malloc(n); }
static void *std_realloc(void *ctx, void *p, size_t n) { LOY_UNUSED(ctx); return realloc(p, n); }
static void std_free(void *ctx, void *p) { LOY_UNUSED(ctx); free(p); }

const loy_alloc loy_default_alloc = {std_malloc, std_realloc, std_free, NULL};

void loy_alloc_resolve(loy_alloc *out, const loy_allocator *in)
{
    *out = loy_default_alloc;
    if (!in)
        return;
    if (in->malloc_fn && in->realloc_fn && in->free_fn) {
        out->malloc_fn = in->malloc_fn;
        out->realloc_fn = in->realloc_fn;
        out->free_fn = in->free_fn;
        out->ctx = in->ctx;
    }
}

void *loy_calloc(const loy_alloc *a, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n))
        return NULL;
    void *p = loy_malloc(a, n);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

char *loy_strndup(const loy_alloc *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = loy_malloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *loy_strdup(const loy_alloc *a, const char *s)
{
    return loy_strndup(a, s, strlen(s));
}

bool loy_grow(const loy_alloc *a, void **items, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap : 4;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return false;
        ncap *= 2;
    }
    size_t bytes;
    if (__builtin_mul_overflow(ncap, elem, &bytes))
        return false;
    void *p = loy_realloc(a, *items, bytes);
    if (!p)
        return false;
    *items = p;
    *cap = ncap;
    return true;
}

/* ----------------------------------------------------------------- arena */

struct loy_arena_chunk {
    struct loy_arena_chunk *next;
    size_t size;                    /* usable bytes in data */
    _Alignas(16) unsigned char data[];
};

#define ARENA_MIN_CHUNK 4096u

void loy_arena_init(loy_arena *arena, const loy_alloc *alloc)
{
    arena->alloc = alloc;
    arena->head = NULL;
    arena->first = NULL;
    arena->used = 0;
    arena->head_data = NULL;
    arena->head_size = 0;
}

static void set_head(loy_arena *arena, loy_arena_chunk *c, size_t used)
{
    arena->head = c;
    arena->used = used;
    arena->head_data = c ? c->data : NULL;
    arena->head_size = c ? c->size : 0;
}

void *loy_arena_alloc(loy_arena *arena, size_t size)
{
    size = (size + 7u) & ~(size_t)7u;
    if (size == 0)
        size = 8;
    loy_arena_chunk *c = arena->head;
    if (c && c->size - arena->used >= size) {
        void *p = c->data + arena->used;
        arena->used += size;
        return p;
    }
    /* Reuse a following chunk kept from an earlier round when it fits. */
    while (c && c->next) {
        c = c->next;
        if (c->size >= size) {
            set_head(arena, c, size);
            return c->data;
        }
    }
    size_t want = size > ARENA_MIN_CHUNK ? size : ARENA_MIN_CHUNK;
    if (arena->head && arena->head->size * 2 > want && arena->head->size < (1u << 20))
        want = arena->head->size * 2;
    if (want > SIZE_MAX - sizeof(loy_arena_chunk))
        return NULL;
    loy_arena_chunk *n = loy_malloc(arena->alloc, sizeof(loy_arena_chunk) + want);
    if (!n)
        return NULL;
    n->size = want;
    n->next = NULL;
    /* Append at the end of the chain so every chunk is reused after a reset. */
    if (!arena->first) {
        arena->first = n;
    } else {
        loy_arena_chunk *t = arena->first;
        while (t->next)
            t = t->next;
        t->next = n;
    }
    set_head(arena, n, size);
    return n->data;
}

char *loy_arena_strndup(loy_arena *arena, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = loy_arena_take(arena, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *loy_arena_strdup(loy_arena *arena, const char *s)
{
    return loy_arena_strndup(arena, s, strlen(s));
}

char *loy_arena_printf(loy_arena *arena, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    if ((size_t)n < sizeof small)
        return loy_arena_strndup(arena, small, (size_t)n);
    char *p = loy_arena_alloc(arena, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void loy_arena_reset(loy_arena *arena)
{
    set_head(arena, arena->first, 0);
}

void loy_arena_release(loy_arena *arena)
{
    loy_arena_chunk *c = arena->first;
    while (c) {
        loy_arena_chunk *next = c->next;
        loy_free(arena->alloc, c);
        c = next;
    }
    arena->first = NULL;
    set_head(arena, NULL, 0);
}

/* ------------------------------------------------------ exact arithmetic */

bool loy_round_q(__int128 num, __int128 den, loy_round mode, int64_t *out)
{
    if (den < 0) {
        num = -num;
        den = -den;
    }
    __int128 q = num / den;
    __int128 rem = num % den;
    /* C truncates toward zero; bring q to the floor first. */
    if (rem != 0 && num < 0) {
        q -= 1;
        rem += den;
    }
    switch (mode) {
    case LOY_ROUND_FLOOR:
        break;
    case LOY_ROUND_CEIL:
        if (rem != 0)
            q += 1;
        break;
    case LOY_ROUND_NEAREST:
        /* half up: add one when rem/den >= 1/2 */
        if (rem * 2 >= den)
            q += 1;
        break;
    }
    if (q > INT64_MAX || q < INT64_MIN)
        return false;
    *out = (int64_t)q;
    return true;
}

bool loy_muldiv(int64_t a, int64_t b, int64_t c, loy_round mode, int64_t *out)
{
    return loy_round_q((__int128)a * b, c, mode, out);
}

/* ----------------------------------------------------------------- UTF-8 */

bool loy_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        /* Ids, SKUs and categories are nearly always ASCII: eight bytes at a time. */
        if (len - i >= 8) {
            uint64_t word;
            memcpy(&word, s + i, sizeof word);
            if (!(word & UINT64_C(0x8080808080808080))) {
                i += 8;
                continue;
            }
        }
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            unsigned cc = s[i + k];
            if ((cc & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

size_t loy_vformat(char *buf, size_t cap, const char *fmt, va_list ap)
{
    if (cap == 0)
        return 0;
    int n = vsnprintf(buf, cap, fmt, ap);
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    if ((size_t)n < cap)
        return (size_t)n;
    /* Cut: drop a last character whose continuation bytes did not fit. */
    size_t len = cap - 1, k = len, tail = 0;
    while (k > 0 && tail < 3 && ((unsigned char)buf[k - 1] & 0xC0) == 0x80) {
        k--;
        tail++;
    }
    if (k > 0) {
        unsigned char lead = (unsigned char)buf[k - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (need > 1 && tail + 1 < need)
            len = k - 1;
    }
    buf[len] = '\0';
    return len;
}
