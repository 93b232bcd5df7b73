/*
 * The tree of load.c -> struct loy_policy (lib/policy.h), validating every
 * rule of POLICY.md §2-§9.
 *
 * The whole tree is read before anything depends on it (money needs
 * currency.minor_units, conditions need the ids of tiers, plans and stages),
 * so keys may come in any order. Each section goes on after an error so that
 * every error of a file is reported; a reference to a tier is only checked
 * when the levels themselves read cleanly, to avoid a cascade of errors from
 * one mistake.
 *
 * Error positions (§2): at the key for an unknown, repeated or misplaced key;
 * at the mapping for a missing key or keys that exclude each other; at the
 * value otherwise. Messages start with the path of what they are about
 * (`points.earn.multipliers[1].factor: ...`, list indices from 0) and say
 * what was expected, with "did you mean" for a misspelt key or word.
 *
 * Everything the policy keeps is allocated in its arena; scratch (paths,
 * id lists for suggestions) in the temporary arena of the load.
 */
#include "internal.h"
#include "decimal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct builder {
    loy_policy *p;
    loy_arena *pa;              /* the policy's arena */
    loy_arena *tmp;             /* scratch for this load */
    loy_diag *d;
    bool nomem;

    int32_t minor;              /* currency.minor_units */
    const char *money_unit;     /* "money in CNY" for messages */

    bool tiers_ok;              /* level ids read cleanly: tier references can be checked */
    const char **tier_ids;      /* by index, for suggestions */
    uint32_t tier_n;
    struct named *tier_sorted;  /* by id, for lookups (a policy may be large) */
    const char **plan_ids;
    uint32_t plan_n;
    struct named *plan_sorted;
    bool stages_ok;
    const char **stage_ids;
    uint32_t stage_n;
    struct named *stage_sorted;
    bool has_birthday;          /* gifts.birthday is written */
    int32_t orders_months;      /* largest orders_in_months M */
} builder;

/* ------------------------------------------------------------- errors */

static void err(builder *b, const loy_yn *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void err(builder *b, const loy_yn *at, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!loy_diag_add(b->d, at ? at->line : 1, at ? at->col : 1, "%s", msg))
        b->nomem = true;
}

static void *palloc(builder *b, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        b->nomem = true;
        return NULL;
    }
    void *ptr = loy_arena_alloc(b->pa, n);
    if (!ptr) {
        b->nomem = true;
        return NULL;
    }
    memset(ptr, 0, n ? n : 1);
    return ptr;
}

static void *talloc(builder *b, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        b->nomem = true;
        return NULL;
    }
    void *ptr = loy_arena_alloc(b->tmp, n);
    if (!ptr)
        b->nomem = true;
    else
        memset(ptr, 0, n ? n : 1);
    return ptr;
}

static const char *pstr(builder *b, const char *s, size_t len)
{
    char *c = loy_arena_strndup(b->pa, s, len);
    if (!c)
        b->nomem = true;
    return c;
}

/* path + "." + key, or key at the top level. */
static const char *sub(builder *b, const char *path, const char *key)
{
    char *s = *path ? loy_arena_printf(b->tmp, "%s.%s", path, key) : loy_arena_printf(b->tmp, "%s", key);
    if (!s) {
        b->nomem = true;
        return "?";
    }
    return s;
}

static const char *idx(builder *b, const char *path, uint32_t i)
{
    char *s = loy_arena_printf(b->tmp, "%s[%u]", path, i);
    if (!s) {
        b->nomem = true;
        return "?";
    }
    return s;
}

/* ----------------------------------------------------- scalar typing (§2) */

typedef enum stype { ST_STR = 0, ST_NULL, ST_BOOL, ST_DATE, ST_INT, ST_FLOAT } stype;

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_xdigit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static bool one_of(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strcmp(s, *words) == 0)
            return true;
    return false;
}

static const char *const NULL_WORDS[] = {"~", "null", "Null", "NULL", NULL};
static const char *const TRUE_WORDS[] = {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", NULL};
static const char *const FALSE_WORDS[] = {"no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", NULL};

/* YAML 1.1 timestamp: YYYY-M(M)-D(D), optionally followed by a time. */
static bool looks_date(const char *s, size_t len)
{
    size_t i = 0;
    for (; i < 4; i++)
        if (i >= len || !is_digit(s[i]))
            return false;
    if (i >= len || s[i++] != '-')
        return false;
    size_t k = 0;
    while (i < len && is_digit(s[i]) && k < 2)
        i++, k++;
    if (k == 0 || i >= len || s[i++] != '-')
        return false;
    k = 0;
    while (i < len && is_digit(s[i]) && k < 2)
        i++, k++;
    if (k == 0)
        return false;
    return i == len || s[i] == 'T' || s[i] == 't' || s[i] == ' ' || s[i] == '\t';
}

/* YAML 1.1 int (decimal, octal, hex, binary; `_` allowed) or float. */
static stype number_type(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i >= len)
        return ST_STR;
    const char *r = s + i;
    size_t rl = len - i;
    if (strcmp(r, ".inf") == 0 || strcmp(r, ".Inf") == 0 || strcmp(r, ".INF") == 0 ||
        (i == 0 && (strcmp(r, ".nan") == 0 || strcmp(r, ".NaN") == 0 || strcmp(r, ".NAN") == 0)))
        return ST_FLOAT;
    if (rl > 2 && r[0] == '0' && (r[1] == 'x' || r[1] == 'b')) {
        for (size_t k = 2; k < rl; k++)
            if (!(r[1] == 'x' ? is_xdigit(r[k]) : (r[k] == '0' || r[k] == '1')) && r[k] != '_')
                return ST_STR;
        return ST_INT;
    }
    size_t digits = 0, points = 0, k = 0;
    for (; k < rl; k++) {
        if (is_digit(r[k]))
            digits++;
        else if (r[k] == '.')
            points++;
        else if (r[k] != '_')
            break;
    }
    if (digits == 0 || points > 1)
        return ST_STR;
    if (k < rl) {
        /* an exponent: e, optional sign, digits */
        if (r[k] != 'e' && r[k] != 'E')
            return ST_STR;
        k++;
        if (k < rl && (r[k] == '+' || r[k] == '-'))
            k++;
        if (k >= rl)
            return ST_STR;
        for (; k < rl; k++)
            if (!is_digit(r[k]))
                return ST_STR;
        return ST_FLOAT;
    }
    if (r[0] == '_')
        return ST_STR;
    return points ? ST_FLOAT : ST_INT;
}

static stype styp(const loy_yn *n)
{
    if (n->kind != LOY_YN_SCALAR || !n->plain)
        return ST_STR;
    if (n->len == 0 || one_of(n->text, NULL_WORDS))
        return ST_NULL;
    if (one_of(n->text, TRUE_WORDS) || one_of(n->text, FALSE_WORDS))
        return ST_BOOL;
    if (looks_date(n->text, n->len))
        return ST_DATE;
    return number_type(n->text, n->len);
}

/* A short description of a node for "got ..." (into buf). */
static const char *desc(const loy_yn *n, char *buf, size_t cap)
{
    if (n->kind == LOY_YN_MAP)
        return "a mapping";
    if (n->kind == LOY_YN_SEQ)
        return "a list";
    /* cut long text on a UTF-8 boundary */
    size_t len = n->len, max = 48;
    bool cut = false;
    if (len > max) {
        len = max;
        while (len > 0 && ((unsigned char)n->text[len] & 0xC0) == 0x80)
            len--;
        cut = true;
    }
    int w = (int)len;
    switch (styp(n)) {
    case ST_NULL:
        return "null";
    case ST_BOOL:
        snprintf(buf, cap, "the boolean %.*s", w, n->text);
        break;
    case ST_DATE:
        snprintf(buf, cap, "the date %.*s%s", w, n->text, cut ? "..." : "");
        break;
    case ST_INT:
    case ST_FLOAT:
        snprintf(buf, cap, "%.*s%s", w, n->text, cut ? "..." : "");
        break;
    case ST_STR:
        if (n->plain)
            snprintf(buf, cap, "'%.*s%s'", w, n->text, cut ? "..." : "");
        else
            snprintf(buf, cap, "\"%.*s%s\"", w, n->text, cut ? "..." : "");
        break;
    }
    return buf;
}
#define DESC(n) desc((n), (char[96]){0}, 96)

/* --------------------------------------------------------- did you mean */

size_t loy_edit_distance(const char *a, const char *b, size_t cap)
{
    size_t la = strlen(a), lb = strlen(b);
    enum { MAXL = 64 };
    if (la > MAXL || lb > MAXL)
        return cap + 1;
    if ((la > lb ? la - lb : lb - la) > cap)
        return cap + 1;
    size_t rows[3][MAXL + 1];
    size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v)
                v = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            cur[j] = v;
        }
        size_t *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb] > cap ? cap + 1 : prev[lb];
}

/* The closest candidate to word, or NULL when none is close enough. */
static const char *closest(const char *word, const char *const *cands, size_t n)
{
    size_t len = strlen(word);
    size_t allowed = len / 3;
    if (allowed < 1)
        allowed = 1;
    if (allowed > 3)
        allowed = 3;
    const char *best = NULL;
    size_t best_d = allowed + 1;
    for (size_t i = 0; i < n; i++) {
        if (!cands[i])
            continue;
        size_t dist = loy_edit_distance(word, cands[i], allowed);
        if (dist < best_d && dist < len && dist > 0) {
            best = cands[i];
            best_d = dist;
        }
    }
    return best;
}

static size_t count_words(const char *const *words)
{
    size_t n = 0;
    while (words[n])
        n++;
    return n;
}

/* "; did you mean 'X'?" or "". */
static const char *hint(builder *b, const char *word, const char *const *cands, size_t n)
{
    if (b->d->truncated)
        return "";  /* no more errors are kept: spare the search */
    const char *best = closest(word, cands, n);
    if (!best)
        return "";
    char *s = loy_arena_printf(b->tmp, "; did you mean '%s'?", best);
    if (!s) {
        b->nomem = true;
        return "";
    }
    return s;
}

/* "a, b or c" */
static const char *join_words(builder *b, const char *const *words, const char *last_sep)
{
    size_t n = count_words(words), total = 1;
    for (size_t i = 0; i < n; i++)
        total += strlen(words[i]) + 4;
    char *s = talloc(b, total, 1);
    if (!s)
        return "?";
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strcat(s, i + 1 == n ? last_sep : ", ");
        strcat(s, words[i]);
    }
    return s;
}

/* ------------------------------------------------------------- mappings */

static const loy_yn *mget(const loy_yn *m, const char *key)
{
    if (!m || m->kind != LOY_YN_MAP)
        return NULL;
    for (uint32_t i = 0; i < m->count; i++) {
        const loy_yn *k = loy_yn_key(m, i);
        if (k->kind == LOY_YN_SCALAR && !k->merge_key && strcmp(k->text, key) == 0)
            return loy_yn_val(m, i);
    }
    return NULL;
}

static const loy_yn *mkey(const loy_yn *m, const char *key)
{
    if (!m || m->kind != LOY_YN_MAP)
        return NULL;
    for (uint32_t i = 0; i < m->count; i++) {
        const loy_yn *k = loy_yn_key(m, i);
        if (k->kind == LOY_YN_SCALAR && !k->merge_key && strcmp(k->text, key) == 0)
            return k;
    }
    return NULL;
}

static bool want_map(builder *b, const loy_yn *n, const char *path)
{
    if (n->kind == LOY_YN_MAP)
        return true;
    err(b, n, "%s: expected a mapping, got %s", path, DESC(n));
    return false;
}

static bool want_seq(builder *b, const loy_yn *n, const char *path)
{
    if (n->kind == LOY_YN_SEQ)
        return true;
    err(b, n, "%s: expected a list, got %s", path, DESC(n));
    return false;
}

static bool need(builder *b, const loy_yn *m, const char *path, const char *key)
{
    if (mget(m, key))
        return true;
    if (*path)
        err(b, m, "%s: missing required key '%s'", path, key);
    else
        err(b, m, "missing required top-level key '%s'", key);
    return false;
}

/* need() for each key (every missing one reported); true when all are there. */
static bool need_all(builder *b, const loy_yn *m, const char *path, const char *const *keys)
{
    bool ok = true;
    for (; *keys; keys++)
        ok = need(b, m, path, *keys) && ok;
    return ok;
}
#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})

typedef struct named {
    const char *id;
    uint32_t i;
} named;

static int named_cmp(const void *a, const void *b)
{
    const named *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c)
        return c;
    return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * Report every repeated id among ids[0..n) (NULL entries skipped), at
 * nodes[i], naming the first occurrence. what: "key", "tier id"...
 */
static void report_dups(builder *b, const char **ids, const loy_yn *const *nodes, uint32_t n,
                        const char *path, const char *what)
{
    if (n < 2)
        return;
    named *v = talloc(b, n, sizeof *v);
    if (!v)
        return;
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        if (ids[i])
            v[m++] = (named){ids[i], i};
    qsort(v, m, sizeof *v, named_cmp);
    for (uint32_t k = 1; k < m; k++) {
        if (strcmp(v[k].id, v[k - 1].id) != 0)
            continue;
        uint32_t first = k - 1;
        while (first > 0 && strcmp(v[first - 1].id, v[k].id) == 0)
            first--;
        const loy_yn *f = nodes[v[first].i];
        if (*path)
            err(b, nodes[v[k].i], "%s: %s '%s' repeated (first at %u:%u)", path, what, v[k].id, f->line, f->col);
        else
            err(b, nodes[v[k].i], "top-level %s '%s' repeated (first at %u:%u)", what, v[k].id, f->line, f->col);
    }
}

/* Where a key that is unknown here belongs, for a better message. */
static const struct {
    const char *where, *key, *belongs;
} MISPLACED[] = {
    {"", "qualify_on", "tiers"},       {"", "levels", "tiers"},           {"", "window", "tiers"},
    {"", "review", "tiers"},           {"", "downgrade", "tiers"},        {"", "earn", "points"},
    {"", "actions", "points"},         {"", "expiry", "points"},          {"", "redeem", "points"},
    {"", "pending_days", "points"},    {"", "negative_balance", "points"}, {"", "upgrade", "gifts"},
    {"", "birthday", "gifts"},         {"", "surprise", "gifts"},         {"", "spend", "gifts"},
    {"", "plans", "paid"},             {"", "per_spend", "growth"},       {"", "per_order", "growth"},
    {"", "code", "currency"},          {"", "minor_units", "currency"},   {"points", "rate", "points.earn"},
    {"points", "rounding", "points.earn"}, {"points", "rounding_scope", "points.earn"},
    {"points", "exclude", "points.earn"},  {"points", "min_order", "points.earn"},
    {"points", "multipliers", "points.earn"}, {"points", "stacking", "points.earn"},
    {"points", "cap", "points.earn"},  {"points.earn", "actions", "points"},
    {"points.earn", "pending_days", "points"}, {"points.earn", "expiry", "points"},
    {"points.earn", "redeem", "points"},
};

/*
 * Unknown keys (when `allowed` is not NULL) and repeated keys of a mapping,
 * reported at the key.
 */
static void check_keys(builder *b, const loy_yn *m, const char *path, const char *const *allowed)
{
    if (!m || m->kind != LOY_YN_MAP)
        return;
    const char **ids = talloc(b, m->count ? m->count : 1, sizeof *ids);
    const loy_yn **nodes = talloc(b, m->count ? m->count : 1, sizeof *nodes);
    if (!ids || !nodes)
        return;
    for (uint32_t i = 0; i < m->count; i++) {
        const loy_yn *k = loy_yn_key(m, i);
        nodes[i] = k;
        if (k->kind != LOY_YN_SCALAR || k->merge_key)
            continue;
        ids[i] = k->text;
        if (!allowed || one_of(k->text, allowed))
            continue;
        const char *h = hint(b, k->text, allowed, count_words(allowed));
        if (!*h) {
            for (size_t j = 0; j < LOY_ARRAY_LEN(MISPLACED); j++)
                if (strcmp(MISPLACED[j].where, path) == 0 && strcmp(MISPLACED[j].key, k->text) == 0) {
                    if (*path)
                        err(b, k, "%s: key '%s' belongs under %s", path, k->text, MISPLACED[j].belongs);
                    else
                        err(b, k, "top-level key '%s' belongs under %s", k->text, MISPLACED[j].belongs);
                    goto next;
                }
            h = loy_arena_printf(b->tmp, "; expected %s", join_words(b, allowed, " or "));
            if (!h) {
                b->nomem = true;
                h = "";
            }
        }
        if (*path)
            err(b, k, "unknown key '%s' in %s%s", k->text, path, h);
        else
            err(b, k, "unknown top-level key '%s'%s", k->text, h);
    next:;
    }
    report_dups(b, ids, nodes, m->count, path, "key");
}

/* ---------------------------------------------------------------- values */

/* Text that may not be empty or hold a NUL (ids); returns a policy copy. */
static const char *text_of(builder *b, const loy_yn *n, const char *path, bool allow_empty)
{
    if (memchr(n->text, '\0', n->len)) {
        err(b, n, "%s: text may not contain a NUL character", path);
        return NULL;
    }
    if (!allow_empty && n->len == 0) {
        err(b, n, "%s: an id may not be empty", path);
        return NULL;
    }
    return pstr(b, n->text, n->len);
}

/* An id (§2): text, or an unquoted integer taken as its text. */
static const char *get_id(builder *b, const loy_yn *n, const char *path)
{
    if (n->kind != LOY_YN_SCALAR) {
        err(b, n, "%s: expected an id, got %s", path, DESC(n));
        return NULL;
    }
    stype t = styp(n);
    if (t == ST_NULL || t == ST_BOOL || t == ST_DATE || t == ST_FLOAT) {
        err(b, n, "%s: expected an id, got %s (quote it to mean text)", path, DESC(n));
        return NULL;
    }
    return text_of(b, n, path, false);
}

/* Free text (program, names). */
static const char *get_text(builder *b, const loy_yn *n, const char *path)
{
    if (n->kind != LOY_YN_SCALAR) {
        err(b, n, "%s: expected text, got %s", path, DESC(n));
        return NULL;
    }
    stype t = styp(n);
    if (t == ST_NULL || t == ST_BOOL) {
        err(b, n, "%s: expected text, got %s (quote it to mean text)", path, DESC(n));
        return NULL;
    }
    return text_of(b, n, path, true);
}

/* A word of a closed list; returns its index or -1 (reported). */
static int get_word(builder *b, const loy_yn *n, const char *path, const char *const *words)
{
    const char *list = join_words(b, words, " or ");
    if (n->kind != LOY_YN_SCALAR || styp(n) == ST_NULL || styp(n) == ST_BOOL) {
        err(b, n, "%s: expected %s, got %s", path, list, DESC(n));
        return -1;
    }
    for (int i = 0; words[i]; i++)
        if (strcmp(n->text, words[i]) == 0)
            return i;
    err(b, n, "%s: expected %s, got %s%s", path, list, DESC(n), hint(b, n->text, words, count_words(words)));
    return -1;
}

static bool get_bool(builder *b, const loy_yn *n, const char *path, bool *out)
{
    if (n->kind == LOY_YN_SCALAR && styp(n) == ST_BOOL) {
        *out = one_of(n->text, TRUE_WORDS);
        return true;
    }
    err(b, n, "%s: expected true or false, got %s", path, DESC(n));
    return false;
}

/* A decimal scaled by 10^scale. what: the expectation; unit: for "takes at most N decimals". */
static bool get_decimal(builder *b, const loy_yn *n, const char *path, int scale, const char *what,
                        const char *unit, int64_t *out)
{
    if (n->kind != LOY_YN_SCALAR) {
        err(b, n, "%s: expected %s, got %s", path, what, DESC(n));
        return false;
    }
    stype t = styp(n);
    if (t == ST_NULL || t == ST_BOOL || t == ST_DATE) {
        err(b, n, "%s: expected %s, got %s", path, what, DESC(n));
        return false;
    }
    switch (loy_decimal_parse(n->text, n->len, !n->plain, scale, out, NULL)) {
    case LOY_DEC_OK:
        return true;
    case LOY_DEC_SYNTAX:
        err(b, n, "%s: expected %s, got %s", path, what, DESC(n));
        break;
    case LOY_DEC_NEGATIVE:
        err(b, n, "%s: must not be negative, got %s", path, n->text);
        break;
    case LOY_DEC_SIGN:
        err(b, n, "%s: a number takes no sign, got %s", path, n->text);
        break;
    case LOY_DEC_EXPONENT:
        err(b, n, "%s: write the number without an exponent, got %s", path, n->text);
        break;
    case LOY_DEC_LEADING_DOT:
        err(b, n, "%s: write a digit before the decimal point (0.5, not .5), got %s", path, n->text);
        break;
    case LOY_DEC_QUOTED_GROUPING:
        err(b, n, "%s: '_' may group digits only in an unquoted number, got \"%s\"", path, n->text);
        break;
    case LOY_DEC_LEADING_ZERO:
        err(b, n, "%s: a number may not start with 0 (YAML 1.1 reads it as octal), got %s", path, n->text);
        break;
    case LOY_DEC_DECIMALS:
        if (scale == 0)
            err(b, n, "%s: %s takes no decimals, got %s", path, unit, n->text);
        else
            err(b, n, "%s: %s takes at most %d decimals, got %s", path, unit, scale, n->text);
        break;
    case LOY_DEC_OVERFLOW:
        err(b, n, "%s: number too large, got %s", path, DESC(n));
        break;
    }
    return false;
}

static bool get_money(builder *b, const loy_yn *n, const char *path, bool positive, int64_t *out)
{
    char what[64];
    snprintf(what, sizeof what, "an amount of money (at most %d decimals)", (int)b->minor);
    if (!get_decimal(b, n, path, b->minor, what, b->money_unit, out))
        return false;
    if (positive && *out <= 0) {
        err(b, n, "%s: must be greater than 0, got %s", path, n->text);
        return false;
    }
    return true;
}

/* A factor, share or benefit value: 4 decimals. unit: "a factor"... */
static bool get_fix(builder *b, const loy_yn *n, const char *path, const char *unit, int64_t *out)
{
    return get_decimal(b, n, path, 4, "a decimal number (at most 4 decimals)", unit, out);
}

/* A non-negative, unquoted integer in lo..hi. */
static bool get_int(builder *b, const loy_yn *n, const char *path, int64_t lo, int64_t hi, int64_t *out)
{
    if (n->kind != LOY_YN_SCALAR || styp(n) == ST_NULL || styp(n) == ST_BOOL || styp(n) == ST_DATE) {
        err(b, n, "%s: expected an integer, got %s", path, DESC(n));
        return false;
    }
    bool point = false;
    loy_dec_status st = loy_decimal_parse(n->text, n->len, !n->plain, 0, out, &point);
    if (st == LOY_DEC_DECIMALS || (st == LOY_DEC_OK && point)) {
        err(b, n, "%s: expected an integer, got %s", path, DESC(n));
        return false;
    }
    if (st == LOY_DEC_NEGATIVE) {
        err(b, n, "%s: must not be negative, got %s", path, n->text);
        return false;
    }
    if (st != LOY_DEC_OK) {
        /* the same messages as decimals */
        return get_decimal(b, n, path, 0, "an integer", "an integer", out);
    }
    if (!n->plain) {
        err(b, n, "%s: write an integer unquoted, got %s", path, DESC(n));
        return false;
    }
    if (*out < lo || *out > hi) {
        if (hi == INT64_MAX)
            err(b, n, "%s: must be at least %lld, got %s", path, (long long)lo, n->text);
        else
            err(b, n, "%s: must be %lld..%lld, got %s", path, (long long)lo, (long long)hi, n->text);
        return false;
    }
    return true;
}

static bool get_int32(builder *b, const loy_yn *n, const char *path, int64_t lo, int64_t hi, int32_t *out)
{
    int64_t v;
    if (!get_int(b, n, path, lo, hi, &v))
        return false;
    *out = (int32_t)v;
    return true;
}

static bool get_date(builder *b, const loy_yn *n, const char *path, loy_day *out)
{
    if (n->kind == LOY_YN_SCALAR && loy_parse_date(n->text, n->len, out))
        return true;
    if (n->kind == LOY_YN_SCALAR && n->len == 10 && looks_date(n->text, n->len))
        err(b, n, "%s: %s is not a date of the calendar", path, n->text);
    else
        err(b, n, "%s: expected a date YYYY-MM-DD, got %s", path, DESC(n));
    return false;
}

static bool get_time(builder *b, const loy_yn *n, const char *path, int32_t *out)
{
    /* Unquoted 14:00 is a sexagesimal integer in YAML 1.1; here it is the text. */
    if (n->kind == LOY_YN_SCALAR && loy_parse_hhmm(n->text, n->len, out))
        return true;
    err(b, n, "%s: expected a time HH:MM (00:00 to 23:59), got %s", path, DESC(n));
    return false;
}

/* One value or a list of them (§9). */
static const loy_yn *const *items_of(const loy_yn *const *one, uint32_t *count, bool *as_list)
{
    const loy_yn *v = *one;
    if (v->kind == LOY_YN_SEQ) {
        *count = v->count;
        *as_list = true;
        return (const loy_yn *const *)v->kids;
    }
    *count = 1;
    *as_list = false;
    return one;
}

/* An id or a list of ids into a loy_strs. */
static bool get_strs(builder *b, const loy_yn *n, const char *path, loy_strs *out, bool *as_list)
{
    uint32_t count;
    bool list;
    const loy_yn *const *items = items_of(&n, &count, &list);
    if (as_list)
        *as_list = list;
    if (n->kind == LOY_YN_MAP) {
        err(b, n, "%s: expected an id or a list of ids, got a mapping", path);
        return false;
    }
    out->count = 0;
    out->items = palloc(b, count ? count : 1, sizeof *out->items);
    if (!out->items)
        return false;
    bool ok = true;
    for (uint32_t i = 0; i < count; i++) {
        const char *id = get_id(b, items[i], list ? idx(b, path, i) : path);
        if (id)
            out->items[out->count++] = id;
        else
            ok = false;
    }
    return ok;
}

/* ----------------------------------------------------------- references */

/* ids[0..n) sorted by (id, index), NULL ids left out; n entries allocated. */
static named *sort_ids(builder *b, const char *const *ids, uint32_t n)
{
    named *v = talloc(b, n ? n : 1, sizeof *v);
    if (!v)
        return NULL;
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        if (ids[i])
            v[m++] = (named){ids[i], i};
    for (uint32_t i = m; i < n; i++)
        v[i] = (named){NULL, UINT32_MAX};
    qsort(v, m, sizeof *v, named_cmp);
    return v;
}

/* The first index with that id, or -1 (binary search over sort_ids). */
static int find_id(const named *v, uint32_t n, const char *id)
{
    if (!v)
        return -1;
    uint32_t lo = 0, hi = n;
    while (hi > 0 && !v[hi - 1].id)
        hi--;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (strcmp(v[mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo].id && strcmp(v[lo].id, id) == 0 ? (int)v[lo].i : -1;
}

/* A tier id -> index; -1 reported (or tiers unknown: -2, silent). */
static int tier_ref(builder *b, const loy_yn *n, const char *path)
{
    const char *id = get_id(b, n, path);
    if (!id)
        return -1;
    if (!b->tiers_ok)
        return -2;
    int i = find_id(b->tier_sorted, b->tier_n, id);
    if (i < 0)
        err(b, n, "%s: unknown tier '%s'%s", path, id, hint(b, id, b->tier_ids, b->tier_n));
    return i;
}

static int plan_ref(builder *b, const loy_yn *n, const char *path)
{
    const char *id = get_id(b, n, path);
    if (!id)
        return -1;
    int i = find_id(b->plan_sorted, b->plan_n, id);
    if (i >= 0)
        return i;
    if (b->plan_n == 0)
        err(b, n, "%s: unknown plan '%s' (the policy has no paid plans)", path, id);
    else
        err(b, n, "%s: unknown plan '%s'%s", path, id, hint(b, id, b->plan_ids, b->plan_n));
    return -1;
}

static int stage_ref(builder *b, const loy_yn *n, const char *path)
{
    const char *id = get_id(b, n, path);
    if (!id)
        return -1;
    if (!b->stages_ok)
        return -2;
    int i = find_id(b->stage_sorted, b->stage_n, id);
    if (i >= 0)
        return i;
    if (b->stage_n == 0)
        err(b, n, "%s: unknown lifecycle stage '%s' (the policy has no lifecycle)", path, id);
    else
        err(b, n, "%s: unknown lifecycle stage '%s'%s", path, id, hint(b, id, b->stage_ids, b->stage_n));
    return -1;
}

/* ------------------------------------------------------- conditions (§9) */

typedef enum arg_kind {
    A_GROUPS,     /* all, any: a list of condition maps */
    A_GROUP,      /* not: one condition map */
    A_TIERS,      /* tier ids */
    A_TIER,       /* one tier id */
    A_COUNT,      /* N: a non-negative integer */
    A_PAID,       /* active | none | plan ids */
    A_ORDERS_IN,  /* {months, at_least} */
    A_MONEY,      /* X */
    A_STAGES,     /* stage ids */
    A_STRS,       /* ids */
    A_WEEKDAYS,   /* mon..sun */
    A_INTS,       /* integers lo..hi */
    A_DATES,      /* [from, to] */
    A_TIMES,      /* [from, to] */
    A_BIRTHDAY    /* day | month | window */
} arg_kind;

typedef struct pred {
    const char *name;
    loy_cond_op op;
    arg_kind arg;
    int32_t lo, hi;  /* A_INTS */
    bool line;       /* a line predicate: only in points.earn.multipliers */
} pred;

static const pred PREDS[] = {
    {"all", LOY_C_ALL, A_GROUPS, 0, 0, false},
    {"any", LOY_C_ANY, A_GROUPS, 0, 0, false},
    {"not", LOY_C_NOT, A_GROUP, 0, 0, false},
    {"tier", LOY_C_TIER, A_TIERS, 0, 0, false},
    {"tier_at_least", LOY_C_TIER_AT_LEAST, A_TIER, 0, 0, false},
    {"tier_below", LOY_C_TIER_BELOW, A_TIER, 0, 0, false},
    {"points_at_least", LOY_C_POINTS_AT_LEAST, A_COUNT, 0, 0, false},
    {"paid", LOY_C_PAID, A_PAID, 0, 0, false},
    {"member_days_at_least", LOY_C_MEMBER_DAYS_AT_LEAST, A_COUNT, 0, 0, false},
    {"orders_at_least", LOY_C_ORDERS_AT_LEAST, A_COUNT, 0, 0, false},
    {"orders_in_months", LOY_C_ORDERS_IN_MONTHS, A_ORDERS_IN, 0, 0, false},
    {"spend_in_window_at_least", LOY_C_SPEND_IN_WINDOW_AT_LEAST, A_MONEY, 0, 0, false},
    {"days_since_last_order_at_least", LOY_C_DAYS_SINCE_LAST_ORDER_AT_LEAST, A_COUNT, 0, 0, false},
    {"lifecycle", LOY_C_LIFECYCLE, A_STAGES, 0, 0, false},
    {"tags", LOY_C_TAGS, A_STRS, 0, 0, false},
    {"weekday", LOY_C_WEEKDAY, A_WEEKDAYS, 0, 0, false},
    {"day_of_month", LOY_C_DAY_OF_MONTH, A_INTS, 1, 31, false},
    {"month", LOY_C_MONTH, A_INTS, 1, 12, false},
    {"date_between", LOY_C_DATE_BETWEEN, A_DATES, 0, 0, false},
    {"time_between", LOY_C_TIME_BETWEEN, A_TIMES, 0, 0, false},
    {"birthday", LOY_C_BIRTHDAY, A_BIRTHDAY, 0, 0, false},
    {"channel", LOY_C_CHANNEL, A_STRS, 0, 0, false},
    {"store", LOY_C_STORE, A_STRS, 0, 0, false},
    {"order_at_least", LOY_C_ORDER_AT_LEAST, A_MONEY, 0, 0, false},
    {"category", LOY_C_CATEGORY, A_STRS, 0, 0, true},
    {"sku", LOY_C_SKU, A_STRS, 0, 0, true},
};

static const char *const PRED_NAMES[] = {
    "all", "any", "not", "tier", "tier_at_least", "tier_below", "points_at_least", "paid",
    "member_days_at_least", "orders_at_least", "orders_in_months", "spend_in_window_at_least",
    "days_since_last_order_at_least", "lifecycle", "tags", "weekday", "day_of_month", "month",
    "date_between", "time_between", "birthday", "channel", "store", "order_at_least", "category", "sku", NULL,
};

static const char *const WEEKDAYS[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun", NULL};
static const char *const BDAY_WORDS[] = {"day", "month", "window", NULL};

static bool cond_map(builder *b, loy_cond *out, const loy_yn *n, const char *path, bool line_ok);

/* The ints of a set-valued predicate, filled by `one` per item. */
static bool cond_ints(builder *b, loy_cond *c, const loy_yn *val, const char *path,
                      int (*one)(builder *, const loy_yn *, const char *, const pred *), const pred *pd)
{
    uint32_t count;
    const loy_yn *const *items = items_of(&val, &count, &c->as_list);
    c->ints = palloc(b, count ? count : 1, sizeof *c->ints);
    if (!c->ints)
        return false;
    bool ok = true;
    for (uint32_t i = 0; i < count; i++) {
        const char *ipath = c->as_list ? idx(b, path, i) : path;
        if (items[i]->kind != LOY_YN_SCALAR) {
            err(b, items[i], "%s: expected %s, got %s", ipath,
                c->as_list ? "a single value" : "a value or a list of values", DESC(items[i]));
            ok = false;
            continue;
        }
        int v = one(b, items[i], ipath, pd);
        if (v < 0) {
            ok = false;
            continue;
        }
        c->ints[c->count++] = v;
    }
    return ok;
}

static int one_tier(builder *b, const loy_yn *n, const char *path, const pred *pd)
{
    LOY_UNUSED(pd);
    int i = tier_ref(b, n, path);
    return i == -2 ? 0 : i;
}

static int one_stage(builder *b, const loy_yn *n, const char *path, const pred *pd)
{
    LOY_UNUSED(pd);
    int i = stage_ref(b, n, path);
    return i == -2 ? 0 : i;
}

static int one_plan(builder *b, const loy_yn *n, const char *path, const pred *pd)
{
    LOY_UNUSED(pd);
    return plan_ref(b, n, path);
}

static int one_weekday(builder *b, const loy_yn *n, const char *path, const pred *pd)
{
    LOY_UNUSED(pd);
    return get_word(b, n, path, WEEKDAYS);
}

static int one_int(builder *b, const loy_yn *n, const char *path, const pred *pd)
{
    int32_t v;
    return get_int32(b, n, path, pd->lo, pd->hi, &v) ? v : -1;
}

/* Exactly two values [from, to]. */
static bool pair_of(builder *b, const loy_yn *val, const char *path, const char *what)
{
    if (val->kind == LOY_YN_SEQ && val->count == 2)
        return true;
    err(b, val, "%s: expected a list of two %s [from, to], got %s", path, what,
        val->kind == LOY_YN_SEQ ? (val->count < 2 ? "fewer" : "more") : DESC(val));
    return false;
}

static bool cond_pred(builder *b, loy_cond *c, const pred *pd, const loy_yn *val, const char *path,
                      bool line_ok)
{
    c->op = pd->op;
    c->key = pd->name;
    c->has_line_pred = pd->line;
    switch (pd->arg) {
    case A_GROUPS: {
        c->as_list = true;
        if (!want_seq(b, val, path))
            return false;
        c->kids = palloc(b, val->count ? val->count : 1, sizeof *c->kids);
        if (!c->kids)
            return false;
        bool ok = true;
        for (uint32_t i = 0; i < val->count; i++) {
            ok &= cond_map(b, &c->kids[c->count], val->kids[i], idx(b, path, i), line_ok);
            c->has_line_pred |= c->kids[c->count].has_line_pred;
            c->count++;
        }
        return ok;
    }
    case A_GROUP:
        c->kids = palloc(b, 1, sizeof *c->kids);
        if (!c->kids)
            return false;
        c->count = 1;
        if (!cond_map(b, &c->kids[0], val, path, line_ok))
            return false;
        c->has_line_pred = c->kids[0].has_line_pred;
        return true;
    case A_TIERS:
        return cond_ints(b, c, val, path, one_tier, pd);
    case A_TIER: {
        if (val->kind != LOY_YN_SCALAR) {
            err(b, val, "%s: expected one tier id, got %s", path, DESC(val));
            return false;
        }
        int i = tier_ref(b, val, path);
        c->n = i < 0 ? 0 : i;
        return i != -1;
    }
    case A_COUNT:
        return get_int(b, val, path, 0, INT64_MAX, &c->n);
    case A_MONEY:
        return get_money(b, val, path, false, &c->n);
    case A_PAID:
        if (val->kind == LOY_YN_SCALAR && (strcmp(val->text, "active") == 0 || strcmp(val->text, "none") == 0)) {
            c->word = strcmp(val->text, "active") == 0 ? LOY_PAID_ACTIVE : LOY_PAID_NONE;
            return true;
        }
        c->word = LOY_PAID_PLANS;
        return cond_ints(b, c, val, path, one_plan, pd);
    case A_ORDERS_IN: {
        if (!want_map(b, val, path))
            return false;
        static const char *const keys[] = {"months", "at_least", NULL};
        check_keys(b, val, path, keys);
        bool ok = need_all(b, val, path, KEYS("months", "at_least"));
        const loy_yn *m = mget(val, "months"), *a = mget(val, "at_least");
        if (m && get_int(b, m, sub(b, path, "months"), 1, 1200, &c->n)) {
            if (c->n > b->orders_months)
                b->orders_months = (int32_t)c->n;
        } else {
            ok = false;
        }
        if (a && !get_int(b, a, sub(b, path, "at_least"), 0, INT64_MAX, &c->n2))
            ok = false;
        return ok;
    }
    case A_STAGES:
        return cond_ints(b, c, val, path, one_stage, pd);
    case A_STRS: {
        loy_strs s = {0};
        bool ok = get_strs(b, val, path, &s, &c->as_list);
        c->strs = s.items;
        c->count = s.count;
        return ok;
    }
    case A_WEEKDAYS:
    case A_INTS:
        return cond_ints(b, c, val, path, pd->arg == A_WEEKDAYS ? one_weekday : one_int, pd);
    case A_DATES: {
        c->as_list = true;
        if (!pair_of(b, val, path, "dates"))
            return false;
        c->ints = palloc(b, 2, sizeof *c->ints);
        if (!c->ints)
            return false;
        c->count = 2;
        loy_day from, to;
        bool ok = get_date(b, val->kids[0], idx(b, path, 0), &from);
        ok &= get_date(b, val->kids[1], idx(b, path, 1), &to);
        if (!ok)
            return false;
        if (from > to) {
            err(b, val, "%s: from %s is after to %s", path, val->kids[0]->text, val->kids[1]->text);
            return false;
        }
        c->ints[0] = from;
        c->ints[1] = to;
        return true;
    }
    case A_TIMES: {
        c->as_list = true;
        if (!pair_of(b, val, path, "times"))
            return false;
        c->ints = palloc(b, 2, sizeof *c->ints);
        if (!c->ints)
            return false;
        c->count = 2;
        bool ok = get_time(b, val->kids[0], idx(b, path, 0), &c->ints[0]);
        ok &= get_time(b, val->kids[1], idx(b, path, 1), &c->ints[1]);
        return ok;
    }
    case A_BIRTHDAY: {
        int w = get_word(b, val, path, BDAY_WORDS);
        if (w < 0)
            return false;
        c->word = w == 0 ? LOY_BDAY_DAY : w == 1 ? LOY_BDAY_MONTH : LOY_BDAY_WINDOW;
        if (c->word == LOY_BDAY_WINDOW && !b->has_birthday) {
            err(b, val, "%s: 'window' means the gifts.birthday window, and the policy has no gifts.birthday", path);
            return false;
        }
        return true;
    }
    }
    return false;
}

/* A `when` map: every entry a predicate or a group. */
static bool cond_map(builder *b, loy_cond *out, const loy_yn *n, const char *path, bool line_ok)
{
    memset(out, 0, sizeof *out);
    out->op = LOY_C_MAP;
    if (n->kind != LOY_YN_MAP) {
        err(b, n, "%s: expected a mapping of conditions, got %s", path, DESC(n));
        return false;
    }
    check_keys(b, n, path, NULL);
    out->kids = palloc(b, n->count ? n->count : 1, sizeof *out->kids);
    if (!out->kids)
        return false;
    bool ok = true;
    for (uint32_t i = 0; i < n->count; i++) {
        const loy_yn *k = loy_yn_key(n, i), *v = loy_yn_val(n, i);
        if (k->kind != LOY_YN_SCALAR || k->merge_key) {
            ok = false;
            continue;
        }
        const pred *pd = NULL;
        for (size_t j = 0; j < LOY_ARRAY_LEN(PREDS); j++)
            if (strcmp(PREDS[j].name, k->text) == 0)
                pd = &PREDS[j];
        if (!pd) {
            const char *h = hint(b, k->text, PRED_NAMES, count_words(PRED_NAMES));
            if (*h)
                err(b, k, "%s: unknown condition '%s'%s", path, k->text, h);
            else
                err(b, k, "%s: unknown condition '%s'; expected one of %s", path, k->text,
                    join_words(b, PRED_NAMES, ", "));
            ok = false;
            continue;
        }
        if (pd->line && !line_ok) {
            err(b, k, "%s: '%s' is a line condition, allowed only in points.earn.multipliers", path, k->text);
            ok = false;
            continue;
        }
        loy_cond *c = &out->kids[out->count++];
        ok &= cond_pred(b, c, pd, v, sub(b, path, k->text), line_ok);
        out->has_line_pred |= c->has_line_pred;
    }
    return ok;
}

/* The `when` of a rule; NULL when absent or wrong (reported). */
static const loy_cond *get_when(builder *b, const loy_yn *map, const char *path, bool line_ok, bool *ok)
{
    const loy_yn *w = mget(map, "when");
    if (!w)
        return NULL;
    loy_cond *c = palloc(b, 1, sizeof *c);
    if (!c)
        return NULL;
    if (!cond_map(b, c, w, sub(b, path, "when"), line_ok)) {
        if (ok)
            *ok = false;
        return NULL;
    }
    return c;
}

/* --------------------------------------------------- limits and rewards */

static const char *const LIMIT_KEYS[] = {"count", "per", NULL};
static const char *const LIMIT_PER[] = {"day", "week", "month", "year", NULL};
static const char *const ONCE_WORD[] = {"once", NULL};

/* once | {count: N >= 1, per: day|week|month|year} (§4.3, §6) */
static bool get_limit(builder *b, const loy_yn *n, const char *path, loy_limit *out)
{
    out->kind = LOY_LIMIT_NONE;
    if (n->kind != LOY_YN_MAP) {
        if (n->kind == LOY_YN_SCALAR && styp(n) == ST_STR && strcmp(n->text, "once") == 0) {
            out->kind = LOY_LIMIT_ONCE;
            return true;
        }
        err(b, n, "%s: expected once or {count: N, per: day|week|month|year}, got %s%s", path, DESC(n),
            n->kind == LOY_YN_SCALAR ? hint(b, n->text, ONCE_WORD, 1) : "");
        return false;
    }
    check_keys(b, n, path, LIMIT_KEYS);
    bool ok = need_all(b, n, path, KEYS("count", "per"));
    const loy_yn *c = mget(n, "count"), *per = mget(n, "per");
    if (c && !get_int(b, c, sub(b, path, "count"), 1, INT64_MAX, &out->count))
        ok = false;
    if (per) {
        int w = get_word(b, per, sub(b, path, "per"), LIMIT_PER);
        if (w < 0)
            ok = false;
        else
            out->per = (loy_period)w;
    }
    if (ok)
        out->kind = LOY_LIMIT_PER;
    return ok;
}

static const char *const REWARD_KEYS[] = {"points", "coupons", "items", "credit", NULL};

/* points, coupons (ids), items (ids), credit (money) (§5) */
static const loy_reward *get_reward(builder *b, const loy_yn *n, const char *path)
{
    if (!want_map(b, n, path))
        return NULL;
    check_keys(b, n, path, REWARD_KEYS);
    loy_reward *r = palloc(b, 1, sizeof *r);
    if (!r)
        return NULL;
    bool ok = true;
    if (n->count == 0) {
        err(b, n, "%s: a reward needs at least one of points, coupons, items or credit", path);
        ok = false;
    }
    const loy_yn *v;
    if ((v = mget(n, "points"))) {
        r->has_points = get_int(b, v, sub(b, path, "points"), 0, INT64_MAX, &r->points);
        ok &= r->has_points;
    }
    if ((v = mget(n, "coupons"))) {
        r->has_coupons = get_strs(b, v, sub(b, path, "coupons"), &r->coupons, NULL);
        ok &= r->has_coupons;
    }
    if ((v = mget(n, "items"))) {
        r->has_items = get_strs(b, v, sub(b, path, "items"), &r->items, NULL);
        ok &= r->has_items;
    }
    if ((v = mget(n, "credit"))) {
        r->has_credit = get_money(b, v, sub(b, path, "credit"), false, &r->credit);
        ok &= r->has_credit;
    }
    return ok ? r : NULL;
}

/* tier -> reward; per tier index (NULL: no gift); *count the entries. */
static const loy_reward **by_tier_rewards(builder *b, const loy_yn *n, const char *path, uint32_t *count)
{
    *count = 0;
    if (!want_map(b, n, path))
        return NULL;
    check_keys(b, n, path, NULL);
    const loy_reward **per = palloc(b, b->tier_n ? b->tier_n : 1, sizeof *per);
    if (!per)
        return NULL;
    for (uint32_t i = 0; i < n->count; i++) {
        const loy_yn *k = loy_yn_key(n, i);
        if (k->merge_key)
            continue;
        int t = tier_ref(b, k, path);
        const char *kid = k->kind == LOY_YN_SCALAR ? k->text : "?";
        const loy_reward *r = get_reward(b, loy_yn_val(n, i), sub(b, path, kid));
        if (t >= 0 && r && !per[t]) {
            per[t] = r;
            (*count)++;
        }
    }
    return per;
}

static const char *const EXCLUDE_KEYS[] = {"categories", "skus", NULL};

static void get_exclude(builder *b, const loy_yn *n, const char *path, loy_strs *cats, loy_strs *skus)
{
    if (!want_map(b, n, path))
        return;
    check_keys(b, n, path, EXCLUDE_KEYS);
    const loy_yn *v;
    if ((v = mget(n, "categories")))
        get_strs(b, v, sub(b, path, "categories"), cats, NULL);
    if ((v = mget(n, "skus")))
        get_strs(b, v, sub(b, path, "skus"), skus, NULL);
}

/* The id of every entry of a list (for duplicates and references). */
typedef struct id_list {
    const char **ids;
    const loy_yn **nodes;
    uint32_t n;
    bool ok;           /* every entry has a readable id */
} id_list;

static id_list collect_ids(builder *b, const loy_yn *seq, const char *path, bool report)
{
    id_list l = {NULL, NULL, 0, true};
    uint32_t n = seq->count;
    l.ids = talloc(b, n ? n : 1, sizeof *l.ids);
    l.nodes = talloc(b, n ? n : 1, sizeof *l.nodes);
    if (!l.ids || !l.nodes) {
        l.ok = false;
        return l;
    }
    l.n = n;
    for (uint32_t i = 0; i < n; i++) {
        const loy_yn *e = seq->kids[i];
        const loy_yn *idn = e->kind == LOY_YN_MAP ? mget(e, "id") : NULL;
        if (!idn) {
            l.ok = false;
            continue;
        }
        l.nodes[i] = idn;
        if (report) {
            l.ids[i] = get_id(b, idn, sub(b, idx(b, path, i), "id"));
        } else if (idn->kind == LOY_YN_SCALAR) {
            stype t = styp(idn);
            if (t != ST_NULL && t != ST_BOOL && t != ST_DATE && t != ST_FLOAT && idn->len > 0 &&
                !memchr(idn->text, 0, idn->len))
                l.ids[i] = pstr(b, idn->text, idn->len);
        }
        if (!l.ids[i])
            l.ok = false;
    }
    return l;
}

/* ------------------------------------------------------------ top level */

static const char *const TOP_KEYS[] = {"loyalty_policy", "program", "currency", "tiers", "growth",
                                       "points", "gifts", "benefits", "paid", "lifecycle", NULL};
static const char *const CURRENCY_KEYS[] = {"code", "minor_units", NULL};

static void build_currency(builder *b, const loy_yn *root)
{
    loy_policy *p = b->p;
    p->minor_units = 2;
    b->minor = 2;
    const loy_yn *n = mget(root, "currency");
    if (!n || !want_map(b, n, "currency"))
        return;
    check_keys(b, n, "currency", CURRENCY_KEYS);
    need(b, n, "currency", "code");
    const loy_yn *v;
    if ((v = mget(n, "code")))
        p->currency_code = get_id(b, v, "currency.code");
    if ((v = mget(n, "minor_units")) && get_int32(b, v, "currency.minor_units", 0, 6, &p->minor_units))
        b->minor = p->minor_units;
    if (p->currency_code) {
        b->money_unit = loy_arena_printf(b->tmp, "money in %s", p->currency_code);
        if (!b->money_unit)
            b->nomem = true;
    }
}

/* ----------------------------------------------------------- tiers (§3) */

static const char *const TIERS_KEYS[] = {"qualify_on", "window", "exclude", "review", "downgrade",
                                         "min_hold_months", "levels", NULL};
static const char *const QUALIFY_ON[] = {"spend", "orders", "points_earned", "growth", NULL};
static const char *const REVIEW[] = {"never", "anniversary", "calendar_year", NULL};
static const char *const DOWNGRADE[] = {"one_level", "to_qualified", NULL};
static const char *const LEVEL_KEYS[] = {"id", "name", "at", "keep", NULL};

static void build_window(builder *b, const loy_yn *n, loy_tiers *t)
{
    const char *path = "tiers.window";
    if (n->kind == LOY_YN_SCALAR && styp(n) != ST_NULL && styp(n) != ST_BOOL) {
        if (strcmp(n->text, "lifetime") == 0) {
            t->window = LOY_W_LIFETIME;
            return;
        }
        if (strcmp(n->text, "calendar_year") == 0) {
            t->window = LOY_W_CALENDAR_YEAR;
            return;
        }
        size_t digits = 0;
        while (digits < n->len && is_digit(n->text[digits]))
            digits++;
        if (digits > 0 && strcmp(n->text + digits, "_months") == 0) {
            int64_t months = 0;
            if (loy_decimal_parse(n->text, digits, true, 0, &months, NULL) != LOY_DEC_OK || months < 1 ||
                months > 60) {
                err(b, n, "%s: N_months takes N from 1 to 60, got %s", path, n->text);
                return;
            }
            t->window = LOY_W_MONTHS;
            t->window_months = (int32_t)months;
            return;
        }
        const char *cands[4] = {"calendar_year", "lifetime", NULL, NULL};
        if (digits > 0) {
            cands[2] = loy_arena_printf(b->tmp, "%.*s_months", (int)digits, n->text);
            if (!cands[2])
                b->nomem = true;
        }
        err(b, n, "%s: expected N_months (N 1..60), calendar_year or lifetime, got %s%s", path, DESC(n),
            hint(b, n->text, cands, 3));
        return;
    }
    err(b, n, "%s: expected N_months (N 1..60), calendar_year or lifetime, got %s", path, DESC(n));
}

static void build_tiers(builder *b, const loy_yn *root)
{
    loy_tiers *t = &b->p->tiers;
    const loy_yn *n = mget(root, "tiers"), *v;
    if (!n || !want_map(b, n, "tiers"))
        return;
    check_keys(b, n, "tiers", TIERS_KEYS);
    bool spend = true;  /* at/keep are money unless qualify_on says otherwise */
    need(b, n, "tiers", "qualify_on");
    if ((v = mget(n, "qualify_on"))) {
        int w = get_word(b, v, "tiers.qualify_on", QUALIFY_ON);
        if (w >= 0) {
            t->qualify_on = (loy_qualify)w;
            spend = t->qualify_on == LOY_Q_SPEND;
        }
    }
    if ((v = mget(n, "window")))
        build_window(b, v, t);
    if ((v = mget(n, "exclude")))
        get_exclude(b, v, "tiers.exclude", &t->exclude_categories, &t->exclude_skus);
    int w;
    if ((v = mget(n, "review")) && (w = get_word(b, v, "tiers.review", REVIEW)) >= 0)
        t->review = (loy_review_kind)w;
    if ((v = mget(n, "downgrade")) && (w = get_word(b, v, "tiers.downgrade", DOWNGRADE)) >= 0)
        t->downgrade = (loy_downgrade)w;
    if ((v = mget(n, "min_hold_months")))
        get_int32(b, v, "tiers.min_hold_months", 0, 1200, &t->min_hold_months);

    if (!need(b, n, "tiers", "levels"))
        return;
    v = mget(n, "levels");
    if (!want_seq(b, v, "tiers.levels"))
        return;
    if (v->count == 0) {
        err(b, v, "tiers.levels: expected at least one level (the first is the entry tier)");
        return;
    }
    t->levels = palloc(b, v->count, sizeof *t->levels);
    const char **ids = talloc(b, v->count, sizeof *ids);
    const loy_yn **id_nodes = talloc(b, v->count, sizeof *id_nodes);
    if (!t->levels || !ids || !id_nodes)
        return;
    t->count = v->count;
    bool ids_ok = true, prev_ok = true;
    int64_t prev_at = 0;
    const loy_yn *prev_node = NULL;
    for (uint32_t i = 0; i < v->count; i++) {
        const loy_yn *lv = v->kids[i];
        const char *lp = idx(b, "tiers.levels", i);
        loy_tier *tier = &t->levels[i];
        if (!want_map(b, lv, lp)) {
            ids_ok = prev_ok = false;
            continue;
        }
        check_keys(b, lv, lp, LEVEL_KEYS);
        const loy_yn *x;
        if (!need(b, lv, lp, "id")) {
            ids_ok = false;
        } else {
            id_nodes[i] = mget(lv, "id");
            ids[i] = tier->id = get_id(b, id_nodes[i], sub(b, lp, "id"));
            ids_ok &= tier->id != NULL;
        }
        if ((x = mget(lv, "name")))
            tier->name = get_text(b, x, sub(b, lp, "name"));
        const loy_yn *at = mget(lv, "at"), *keep = mget(lv, "keep");
        if (i == 0) {
            if (at)
                err(b, mkey(lv, "at"), "%s: the entry tier (the first level) takes no 'at': every member starts there", lp);
            if (keep)
                err(b, mkey(lv, "keep"), "%s: the entry tier (the first level) takes no 'keep'", lp);
            prev_ok = true;
            prev_at = 0;
            continue;
        }
        if (!at) {
            need(b, lv, lp, "at");
            prev_ok = false;
            continue;
        }
        const char *atp = sub(b, lp, "at");
        bool at_ok = spend ? get_money(b, at, atp, false, &tier->at) : get_int(b, at, atp, 0, INT64_MAX, &tier->at);
        if (at_ok && prev_ok && tier->at <= prev_at) {
            if (!prev_node)
                err(b, at, "%s: must be above 0 (the entry tier's), got %s", atp, at->text);
            else
                err(b, at, "%s: must be above the previous level's at (%s), got %s", atp, prev_node->text, at->text);
        }
        tier->keep = tier->at;
        if (keep) {
            const char *kp = sub(b, lp, "keep");
            int64_t k;
            bool keep_ok = spend ? get_money(b, keep, kp, false, &k) : get_int(b, keep, kp, 0, INT64_MAX, &k);
            if (keep_ok && at_ok && k > tier->at)
                err(b, keep, "%s: must not exceed at (%s), got %s", kp, at->text, keep->text);
            else if (keep_ok)
                tier->keep = k;
        }
        prev_ok = at_ok;
        prev_at = tier->at;
        prev_node = at;
    }
    report_dups(b, ids, id_nodes, v->count, "tiers.levels", "tier id");
    b->tiers_ok = ids_ok;
    b->tier_ids = ids;
    b->tier_n = v->count;
    b->tier_sorted = sort_ids(b, ids, v->count);
}

/* ---------------------------------------------------------- growth (§3.2) */

static const char *const GROWTH_KEYS[] = {"per_spend", "per_order", "actions", NULL};
static const char *const PER_SPEND_KEYS[] = {"amount", "growth", NULL};

static void build_growth(builder *b, const loy_yn *root)
{
    loy_growth *g = &b->p->growth;
    const loy_yn *n = mget(root, "growth"), *v;
    if (!n) {
        if (b->p->tiers.qualify_on == LOY_Q_GROWTH)
            err(b, mget(root, "tiers"), "tiers: qualify_on is growth, but the policy has no 'growth' section");
        return;
    }
    if (!want_map(b, n, "growth"))
        return;
    g->present = true;
    check_keys(b, n, "growth", GROWTH_KEYS);
    if ((v = mget(n, "per_spend")) && want_map(b, v, "growth.per_spend")) {
        check_keys(b, v, "growth.per_spend", PER_SPEND_KEYS);
        bool ok = need_all(b, v, "growth.per_spend", KEYS("amount", "growth"));
        const loy_yn *a = mget(v, "amount"), *gr = mget(v, "growth");
        if (a && !get_money(b, a, "growth.per_spend.amount", true, &g->per_spend_amount))
            ok = false;
        if (gr && !get_int(b, gr, "growth.per_spend.growth", 0, INT64_MAX, &g->per_spend_growth))
            ok = false;
        g->has_per_spend = ok;
    }
    if ((v = mget(n, "per_order")))
        get_int(b, v, "growth.per_order", 0, INT64_MAX, &g->per_order);
    if ((v = mget(n, "actions")) && want_map(b, v, "growth.actions")) {
        check_keys(b, v, "growth.actions", NULL);
        g->actions = palloc(b, v->count ? v->count : 1, sizeof *g->actions);
        if (!g->actions)
            return;
        for (uint32_t i = 0; i < v->count; i++) {
            const loy_yn *k = loy_yn_key(v, i);
            if (k->merge_key)
                continue;
            const char *kind = get_id(b, k, "growth.actions");
            int64_t amount;
            if (get_int(b, loy_yn_val(v, i), sub(b, "growth.actions", k->kind == LOY_YN_SCALAR ? k->text : "?"), 0,
                        INT64_MAX, &amount) && kind) {
                g->actions[g->action_count].kind = kind;
                g->actions[g->action_count].growth = amount;
                g->action_count++;
            }
        }
    }
}

/* ----------------------------------------------------------- points (§4) */

static const char *const POINTS_KEYS[] = {"earn", "actions", "pending_days", "expiry", "redeem",
                                          "negative_balance", NULL};
static const char *const EARN_KEYS[] = {"rate", "rounding", "rounding_scope", "exclude", "min_order",
                                        "multipliers", "stacking", "cap", NULL};
static const char *const RATE_KEYS[] = {"amount", "points", NULL};
static const char *const ROUNDING[] = {"floor", "nearest", "ceil", NULL};
static const char *const ROUNDING_SCOPE[] = {"order", "line", NULL};
static const char *const STACKING[] = {"multiply", "add", "max", NULL};
static const char *const CAP_KEYS[] = {"per_order", "per_day", NULL};
static const char *const MULTIPLIER_KEYS[] = {"id", "when", "factor", "by_tier", NULL};
static const char *const ACTION_KEYS[] = {"points", "limit", NULL};
static const char *const EXPIRY_KEYS[] = {"after_months", "end_of_year_plus", NULL};
static const char *const REDEEM_KEYS[] = {"rate", "min_points", "step", "max_order_share", NULL};
static const char *const REDEEM_RATE_KEYS[] = {"points", "amount", NULL};

static bool get_factor(builder *b, const loy_yn *n, const char *path, loy_fix *out)
{
    if (!get_fix(b, n, path, "a factor", out))
        return false;
    if (*out <= 0) {
        err(b, n, "%s: a factor must be greater than 0, got %s", path, n->text);
        return false;
    }
    return true;
}

static void build_multipliers(builder *b, const loy_yn *n, loy_points *pt)
{
    const char *path = "points.earn.multipliers";
    if (!want_seq(b, n, path))
        return;
    pt->multipliers = palloc(b, n->count ? n->count : 1, sizeof *pt->multipliers);
    if (!pt->multipliers)
        return;
    id_list ids = collect_ids(b, n, path, false);
    for (uint32_t i = 0; i < n->count; i++) {
        const loy_yn *m = n->kids[i];
        const char *mp = idx(b, path, i);
        loy_multiplier *mu = &pt->multipliers[pt->multiplier_count];
        if (!want_map(b, m, mp))
            continue;
        check_keys(b, m, mp, MULTIPLIER_KEYS);
        bool ok = need(b, m, mp, "id");
        const loy_yn *v;
        if ((v = mget(m, "id")) && !(mu->id = get_id(b, v, sub(b, mp, "id"))))
            ok = false;
        mu->when = get_when(b, m, mp, true, &ok);
        const loy_yn *f = mget(m, "factor"), *bt = mget(m, "by_tier");
        if (f && bt) {
            err(b, m, "%s: give exactly one of 'factor' and 'by_tier', not both", mp);
            ok = false;
        } else if (!f && !bt) {
            err(b, m, "%s: missing 'factor' or 'by_tier' (give exactly one)", mp);
            ok = false;
        } else if (f) {
            ok &= get_factor(b, f, sub(b, mp, "factor"), &mu->factor);
        } else if (want_map(b, bt, sub(b, mp, "by_tier"))) {
            const char *bp = sub(b, mp, "by_tier");
            check_keys(b, bt, bp, NULL);
            mu->by_tier = true;
            mu->tier_factor = palloc(b, b->tier_n ? b->tier_n : 1, sizeof *mu->tier_factor);
            if (!mu->tier_factor)
                return;
            for (uint32_t k = 0; k < bt->count; k++) {
                const loy_yn *key = loy_yn_key(bt, k);
                if (key->merge_key)
                    continue;
                int t = tier_ref(b, key, bp);
                loy_fix fx;
                if (get_factor(b, loy_yn_val(bt, k), sub(b, bp, key->kind == LOY_YN_SCALAR ? key->text : "?"), &fx) &&
                    t >= 0)
                    mu->tier_factor[t] = fx;
            }
        } else {
            ok = false;
        }
        if (ok)
            pt->multiplier_count++;
    }
    report_dups(b, ids.ids, ids.nodes, ids.n, path, "multiplier id");
}

static void build_earn(builder *b, const loy_yn *n, loy_points *pt)
{
    const char *path = "points.earn";
    if (!want_map(b, n, path))
        return;
    check_keys(b, n, path, EARN_KEYS);
    const loy_yn *v;
    int w;
    bool ok = need(b, n, path, "rate");
    if ((v = mget(n, "rate"))) {
        if (want_map(b, v, "points.earn.rate")) {
            check_keys(b, v, "points.earn.rate", RATE_KEYS);
            ok &= need_all(b, v, "points.earn.rate", KEYS("amount", "points"));
            const loy_yn *a = mget(v, "amount"), *p = mget(v, "points");
            if (a && !get_money(b, a, "points.earn.rate.amount", true, &pt->rate_amount))
                ok = false;
            if (p && !get_int(b, p, "points.earn.rate.points", 0, INT64_MAX, &pt->rate_points))
                ok = false;
        } else {
            ok = false;
        }
    }
    if ((v = mget(n, "rounding")) && (w = get_word(b, v, "points.earn.rounding", ROUNDING)) >= 0)
        pt->rounding = (loy_round)w;
    if ((v = mget(n, "rounding_scope")) && (w = get_word(b, v, "points.earn.rounding_scope", ROUNDING_SCOPE)) >= 0)
        pt->round_per_line = w == 1;
    if ((v = mget(n, "exclude")))
        get_exclude(b, v, "points.earn.exclude", &pt->exclude_categories, &pt->exclude_skus);
    if ((v = mget(n, "min_order")))
        get_money(b, v, "points.earn.min_order", false, &pt->min_order);
    if ((v = mget(n, "multipliers")))
        build_multipliers(b, v, pt);
    if ((v = mget(n, "stacking")) && (w = get_word(b, v, "points.earn.stacking", STACKING)) >= 0)
        pt->stacking = (loy_stacking)w;
    if ((v = mget(n, "cap")) && want_map(b, v, "points.earn.cap")) {
        check_keys(b, v, "points.earn.cap", CAP_KEYS);
        const loy_yn *c;
        if ((c = mget(v, "per_order")))
            get_int(b, c, "points.earn.cap.per_order", 0, INT64_MAX, &pt->cap_per_order);
        if ((c = mget(v, "per_day")))
            get_int(b, c, "points.earn.cap.per_day", 0, INT64_MAX, &pt->cap_per_day);
    }
    pt->has_earn = ok;
}

static void build_actions(builder *b, const loy_yn *n, loy_points *pt)
{
    const char *path = "points.actions";
    if (!want_map(b, n, path))
        return;
    check_keys(b, n, path, NULL);
    pt->actions = palloc(b, n->count ? n->count : 1, sizeof *pt->actions);
    if (!pt->actions)
        return;
    for (uint32_t i = 0; i < n->count; i++) {
        const loy_yn *k = loy_yn_key(n, i), *v = loy_yn_val(n, i);
        if (k->merge_key)
            continue;
        loy_action *a = &pt->actions[pt->action_count];
        a->kind = get_id(b, k, path);
        const char *ap = sub(b, path, k->kind == LOY_YN_SCALAR ? k->text : "?");
        if (!want_map(b, v, ap))
            continue;
        check_keys(b, v, ap, ACTION_KEYS);
        bool ok = a->kind != NULL;
        ok &= need(b, v, ap, "points");
        const loy_yn *x;
        if ((x = mget(v, "points")) && !get_int(b, x, sub(b, ap, "points"), 0, INT64_MAX, &a->points))
            ok = false;
        if ((x = mget(v, "limit")) && !get_limit(b, x, sub(b, ap, "limit"), &a->limit))
            ok = false;
        if (ok)
            pt->action_count++;
    }
}

static void build_expiry(builder *b, const loy_yn *n, loy_points *pt)
{
    const char *path = "points.expiry";
    if (n->kind == LOY_YN_SCALAR && (styp(n) == ST_NULL || strcmp(n->text, "none") == 0)) {
        pt->expiry = LOY_EXPIRY_NONE;
        return;
    }
    if (n->kind != LOY_YN_MAP) {
        err(b, n, "%s: expected {after_months: N}, {end_of_year_plus: K} or none, got %s", path, DESC(n));
        return;
    }
    check_keys(b, n, path, EXPIRY_KEYS);
    const loy_yn *am = mget(n, "after_months"), *ey = mget(n, "end_of_year_plus");
    if (am && ey) {
        err(b, n, "%s: give exactly one of 'after_months' and 'end_of_year_plus', not both", path);
    } else if (!am && !ey) {
        err(b, n, "%s: missing 'after_months' or 'end_of_year_plus' (or write expiry: none)", path);
    } else if (am) {
        if (get_int32(b, am, "points.expiry.after_months", 0, 1200, &pt->expiry_n))
            pt->expiry = LOY_EXPIRY_AFTER_MONTHS;
    } else if (get_int32(b, ey, "points.expiry.end_of_year_plus", 0, 100, &pt->expiry_n)) {
        pt->expiry = LOY_EXPIRY_END_OF_YEAR_PLUS;
    }
}

static void build_redeem(builder *b, const loy_yn *n, loy_points *pt)
{
    const char *path = "points.redeem";
    if (!want_map(b, n, path))
        return;
    check_keys(b, n, path, REDEEM_KEYS);
    bool ok = need(b, n, path, "rate");
    const loy_yn *v;
    if ((v = mget(n, "rate"))) {
        if (want_map(b, v, "points.redeem.rate")) {
            check_keys(b, v, "points.redeem.rate", REDEEM_RATE_KEYS);
            ok &= need_all(b, v, "points.redeem.rate", KEYS("points", "amount"));
            const loy_yn *p = mget(v, "points"), *a = mget(v, "amount");
            if (p && !get_int(b, p, "points.redeem.rate.points", 1, INT64_MAX, &pt->redeem_points))
                ok = false;
            if (a && !get_money(b, a, "points.redeem.rate.amount", true, &pt->redeem_amount))
                ok = false;
        } else {
            ok = false;
        }
    }
    if ((v = mget(n, "min_points")))
        get_int(b, v, "points.redeem.min_points", 0, INT64_MAX, &pt->redeem_min_points);
    if ((v = mget(n, "step")))
        get_int(b, v, "points.redeem.step", 1, INT64_MAX, &pt->redeem_step);
    if ((v = mget(n, "max_order_share")) && get_fix(b, v, "points.redeem.max_order_share", "a share", &pt->redeem_max_share) &&
        pt->redeem_max_share > LOY_FIX_ONE) {
        err(b, v, "points.redeem.max_order_share: must be at most 1, got %s", v->text);
    }
    pt->has_redeem = ok;
}

static void build_points(builder *b, const loy_yn *root)
{
    loy_points *pt = &b->p->points;
    pt->cap_per_order = -1;
    pt->cap_per_day = -1;
    pt->redeem_step = 1;
    pt->redeem_max_share = LOY_FIX_ONE;
    const loy_yn *n = mget(root, "points"), *v;
    if (!n || !want_map(b, n, "points"))
        return;
    check_keys(b, n, "points", POINTS_KEYS);
    if ((v = mget(n, "earn")))
        build_earn(b, v, pt);
    if ((v = mget(n, "actions")))
        build_actions(b, v, pt);
    if ((v = mget(n, "pending_days")))
        get_int32(b, v, "points.pending_days", 0, 3650, &pt->pending_days);
    if ((v = mget(n, "expiry")))
        build_expiry(b, v, pt);
    if ((v = mget(n, "redeem")))
        build_redeem(b, v, pt);
    if ((v = mget(n, "negative_balance")))
        get_bool(b, v, "points.negative_balance", &pt->negative_balance);
}

/* ------------------------------------------------------------ gifts (§5) */

static const char *const GIFTS_KEYS[] = {"upgrade", "birthday", "surprise", "spend", NULL};
static const char *const UPGRADE_KEYS[] = {"by_tier", "once", "skipped", NULL};
static const char *const UPGRADE_ONCE[] = {"lifetime", "every_time", NULL};
static const char *const SKIPPED[] = {"each", "highest", NULL};
static const char *const BIRTHDAY_KEYS[] = {"window", "min_member_days", "feb29", "by_tier", NULL};
static const char *const BDAY_WINDOW_WORDS[] = {"month", "day", NULL};
static const char *const AROUND_KEYS[] = {"days_before", "days_after", NULL};
static const char *const FEB29[] = {"feb28", "mar1", NULL};
static const char *const SURPRISE_KEYS[] = {"id", "when", "sample_percent", "reward", "once", NULL};
static const char *const SURPRISE_ONCE[] = {"lifetime", "per_year", NULL};
static const char *const SPEND_KEYS[] = {"id", "period", "at_least", "reward", NULL};
static const char *const SPEND_PERIOD[] = {"order", "calendar_month", "calendar_year", NULL};

static void build_upgrade(builder *b, const loy_yn *n, loy_gifts *g)
{
    const char *path = "gifts.upgrade";
    if (!want_map(b, n, path))
        return;
    check_keys(b, n, path, UPGRADE_KEYS);
    const loy_yn *v;
    int w;
    if ((v = mget(n, "once")) && (w = get_word(b, v, "gifts.upgrade.once", UPGRADE_ONCE)) >= 0)
        g->upgrade_every_time = w == 1;
    if ((v = mget(n, "skipped")) && (w = get_word(b, v, "gifts.upgrade.skipped", SKIPPED)) >= 0)
        g->upgrade_highest = w == 1;
    if (!need(b, n, path, "by_tier"))
        return;
    g->upgrade = by_tier_rewards(b, mget(n, "by_tier"), "gifts.upgrade.by_tier", &g->upgrade_count);
    g->has_upgrade = g->upgrade != NULL;
}

static void build_birthday_window(builder *b, const loy_yn *n, loy_gifts *g)
{
    const char *path = "gifts.birthday.window";
    if (n->kind == LOY_YN_MAP) {
        check_keys(b, n, path, AROUND_KEYS);
        const loy_yn *x;
        bool ok = true;
        if ((x = mget(n, "days_before")))
            ok &= get_int32(b, x, "gifts.birthday.window.days_before", 0, 364, &g->bday_before);
        if ((x = mget(n, "days_after")))
            ok &= get_int32(b, x, "gifts.birthday.window.days_after", 0, 364, &g->bday_after);
        if (ok && g->bday_before + g->bday_after > 364)
            err(b, n, "%s: days_before + days_after must be at most 364, got %d", path,
                (int)(g->bday_before + g->bday_after));
        g->bday_window = LOY_BW_AROUND;
        return;
    }
    if (n->kind == LOY_YN_SCALAR && styp(n) == ST_STR) {
        for (int i = 0; BDAY_WINDOW_WORDS[i]; i++)
            if (strcmp(n->text, BDAY_WINDOW_WORDS[i]) == 0) {
                g->bday_window = (loy_bday_window)i;
                return;
            }
        err(b, n, "%s: expected day, month or {days_before: N, days_after: N}, got %s%s", path, DESC(n),
            hint(b, n->text, BDAY_WINDOW_WORDS, 2));
        return;
    }
    err(b, n, "%s: expected day, month or {days_before: N, days_after: N}, got %s", path, DESC(n));
}

static void build_birthday(builder *b, const loy_yn *n, loy_gifts *g)
{
    const char *path = "gifts.birthday";
    if (!want_map(b, n, path))
        return;
    check_keys(b, n, path, BIRTHDAY_KEYS);
    const loy_yn *v;
    int w;
    if ((v = mget(n, "window")))
        build_birthday_window(b, v, g);
    if ((v = mget(n, "min_member_days")))
        get_int32(b, v, "gifts.birthday.min_member_days", 0, INT32_MAX, &g->bday_min_member_days);
    if ((v = mget(n, "feb29")) && (w = get_word(b, v, "gifts.birthday.feb29", FEB29)) >= 0)
        g->feb29 = (loy_feb29)w;
    if (!need(b, n, path, "by_tier"))
        return;
    g->birthday = by_tier_rewards(b, mget(n, "by_tier"), "gifts.birthday.by_tier", &g->birthday_count);
    g->has_birthday = g->birthday != NULL;
}

static void build_surprise(builder *b, const loy_yn *n, loy_gifts *g)
{
    const char *path = "gifts.surprise";
    if (!want_seq(b, n, path))
        return;
    g->surprise = palloc(b, n->count ? n->count : 1, sizeof *g->surprise);
    if (!g->surprise)
        return;
    id_list ids = collect_ids(b, n, path, false);
    for (uint32_t i = 0; i < n->count; i++) {
        const loy_yn *e = n->kids[i];
        const char *sp = idx(b, path, i);
        loy_surprise *s = &g->surprise[g->surprise_count];
        if (!want_map(b, e, sp))
            continue;
        check_keys(b, e, sp, SURPRISE_KEYS);
        bool ok = need_all(b, e, sp, KEYS("id", "reward"));
        const loy_yn *v;
        if ((v = mget(e, "id")) && !(s->id = get_id(b, v, sub(b, sp, "id"))))
            ok = false;
        s->when = get_when(b, e, sp, false, &ok);
        s->sample = 10000;
        if ((v = mget(e, "sample_percent"))) {
            int64_t pct;
            const char *pp = sub(b, sp, "sample_percent");
            if (!get_decimal(b, v, pp, 2, "a percentage 0..100 (at most 2 decimals)", "a percentage", &pct)) {
                ok = false;
            } else if (pct > 10000) {
                err(b, v, "%s: must be 0..100, got %s", pp, v->text);
                ok = false;
            } else {
                s->sample = (int32_t)pct;
            }
        }
        if ((v = mget(e, "reward"))) {
            const loy_reward *r = get_reward(b, v, sub(b, sp, "reward"));
            if (r)
                s->reward = *r;
            else
                ok = false;
        }
        int w;
        if ((v = mget(e, "once")) && (w = get_word(b, v, sub(b, sp, "once"), SURPRISE_ONCE)) >= 0)
            s->per_year = w == 1;
        if (ok)
            g->surprise_count++;
    }
    report_dups(b, ids.ids, ids.nodes, ids.n, path, "surprise gift id");
}

static void build_spend(builder *b, const loy_yn *n, loy_gifts *g)
{
    const char *path = "gifts.spend";
    if (!want_seq(b, n, path))
        return;
    g->spend = palloc(b, n->count ? n->count : 1, sizeof *g->spend);
    if (!g->spend)
        return;
    id_list ids = collect_ids(b, n, path, false);
    for (uint32_t i = 0; i < n->count; i++) {
        const loy_yn *e = n->kids[i];
        const char *sp = idx(b, path, i);
        loy_spend_gift *s = &g->spend[g->spend_count];
        if (!want_map(b, e, sp))
            continue;
        check_keys(b, e, sp, SPEND_KEYS);
        bool ok = need_all(b, e, sp, KEYS("id", "period", "at_least", "reward"));
        const loy_yn *v;
        int w;
        if ((v = mget(e, "id")) && !(s->id = get_id(b, v, sub(b, sp, "id"))))
            ok = false;
        if ((v = mget(e, "period"))) {
            if ((w = get_word(b, v, sub(b, sp, "period"), SPEND_PERIOD)) >= 0)
                s->period = (loy_spend_period)w;
            else
                ok = false;
        }
        if ((v = mget(e, "at_least")) && !get_money(b, v, sub(b, sp, "at_least"), false, &s->at_least))
            ok = false;
        if ((v = mget(e, "reward"))) {
            const loy_reward *r = get_reward(b, v, sub(b, sp, "reward"));
            if (r)
                s->reward = *r;
            else
                ok = false;
        }
        if (ok)
            g->spend_count++;
    }
    report_dups(b, ids.ids, ids.nodes, ids.n, path, "spend gift id");
}

static void build_gifts(builder *b, const loy_yn *root)
{
    loy_gifts *g = &b->p->gifts;
    const loy_yn *n = mget(root, "gifts"), *v;
    if (!n || !want_map(b, n, "gifts"))
        return;
    check_keys(b, n, "gifts", GIFTS_KEYS);
    if ((v = mget(n, "upgrade")))
        build_upgrade(b, v, g);
    if ((v = mget(n, "birthday")))
        build_birthday(b, v, g);
    if ((v = mget(n, "surprise")))
        build_surprise(b, v, g);
    if ((v = mget(n, "spend")))
        build_spend(b, v, g);
}

/* --------------------------------------------------------- benefits (§6) */

static const char *const BENEFIT_KEYS[] = {"id", "name", "kind", "when", "limit", "value", NULL};
static const char *const BENEFIT_KINDS[] = {"purchase", "service", "activity", "product", "gift", NULL};
static const char *const VALUE_KEYS[] = {"by_tier", NULL};

/* A number (at most 4 decimals) or a string (§6). */
static bool value_scalar(builder *b, const loy_yn *n, const char *path, loy_value *out)
{
    if (n->kind != LOY_YN_SCALAR) {
        err(b, n, "%s: expected a number or text, got %s", path, DESC(n));
        return false;
    }
    stype t = styp(n);
    if (t == ST_NULL || t == ST_BOOL || t == ST_DATE) {
        err(b, n, "%s: expected a number or text, got %s (quote it to mean text)", path, DESC(n));
        return false;
    }
    if (t == ST_INT || t == ST_FLOAT) {
        loy_fix v;
        if (!get_fix(b, n, path, "a number", &v))
            return false;
        char buf[32];
        size_t len = loy_decimal_format(v, 4, buf, sizeof buf);
        out->kind = LOY_VAL_NUMBER;
        out->text = pstr(b, buf, len);
        return out->text != NULL;
    }
    out->kind = LOY_VAL_STRING;
    out->text = text_of(b, n, path, true);
    return out->text != NULL;
}

static bool get_value(builder *b, const loy_yn *n, const char *path, loy_value *out)
{
    if (n->kind != LOY_YN_MAP)
        return value_scalar(b, n, path, out);
    check_keys(b, n, path, VALUE_KEYS);
    if (!need(b, n, path, "by_tier"))
        return false;
    const loy_yn *bt = mget(n, "by_tier");
    const char *bp = sub(b, path, "by_tier");
    if (!want_map(b, bt, bp))
        return false;
    check_keys(b, bt, bp, NULL);
    out->kind = LOY_VAL_BY_TIER;
    out->by_tier = palloc(b, b->tier_n ? b->tier_n : 1, sizeof *out->by_tier);
    if (!out->by_tier)
        return false;
    bool ok = true;
    for (uint32_t i = 0; i < bt->count; i++) {
        const loy_yn *k = loy_yn_key(bt, i);
        if (k->merge_key)
            continue;
        int t = tier_ref(b, k, bp);
        loy_value v = {LOY_VAL_NONE, NULL, NULL};
        if (!value_scalar(b, loy_yn_val(bt, i), sub(b, bp, k->kind == LOY_YN_SCALAR ? k->text : "?"), &v))
            ok = false;
        else if (t >= 0)
            out->by_tier[t] = v;
        if (t == -1)
            ok = false;
    }
    return ok;
}

static void build_benefits(builder *b, const loy_yn *root)
{
    loy_policy *p = b->p;
    const loy_yn *n = mget(root, "benefits");
    if (!n || !want_seq(b, n, "benefits"))
        return;
    p->benefits = palloc(b, n->count ? n->count : 1, sizeof *p->benefits);
    if (!p->benefits)
        return;
    id_list ids = collect_ids(b, n, "benefits", false);
    for (uint32_t i = 0; i < n->count; i++) {
        const loy_yn *e = n->kids[i];
        const char *bp = idx(b, "benefits", i);
        loy_benefit *bf = &p->benefits[p->benefit_count];
        if (!want_map(b, e, bp))
            continue;
        check_keys(b, e, bp, BENEFIT_KEYS);
        bool ok = need_all(b, e, bp, KEYS("id", "kind"));
        const loy_yn *v;
        if ((v = mget(e, "id")) && !(bf->id = get_id(b, v, sub(b, bp, "id"))))
            ok = false;
        if ((v = mget(e, "name")))
            bf->name = get_text(b, v, sub(b, bp, "name"));
        if ((v = mget(e, "kind"))) {
            int w = get_word(b, v, sub(b, bp, "kind"), BENEFIT_KINDS);
            if (w >= 0)
                bf->kind = pstr(b, BENEFIT_KINDS[w], strlen(BENEFIT_KINDS[w]));
            else
                ok = false;
        }
        bf->when = get_when(b, e, bp, false, &ok);
        if ((v = mget(e, "limit")) && !get_limit(b, v, sub(b, bp, "limit"), &bf->limit))
            ok = false;
        if ((v = mget(e, "value")) && !get_value(b, v, sub(b, bp, "value"), &bf->value))
            ok = false;
        if (ok)
            p->benefit_count++;
    }
    report_dups(b, ids.ids, ids.nodes, ids.n, "benefits", "benefit id");
}

/* ------------------------------------------------------------- paid (§7) */

static const char *const PAID_KEYS[] = {"plans", NULL};
static const char *const PLAN_KEYS[] = {"id", "fee", "months", "guarantee", NULL};

static void build_paid(builder *b, const loy_yn *root)
{
    loy_policy *p = b->p;
    const loy_yn *n = mget(root, "paid"), *v;
    if (!n || !want_map(b, n, "paid"))
        return;
    check_keys(b, n, "paid", PAID_KEYS);
    if (!need(b, n, "paid", "plans"))
        return;
    v = mget(n, "plans");
    if (!want_seq(b, v, "paid.plans"))
        return;
    if (v->count == 0) {
        err(b, v, "paid.plans: expected at least one plan");
        return;
    }
    p->plans = palloc(b, v->count, sizeof *p->plans);
    if (!p->plans)
        return;
    id_list ids = collect_ids(b, v, "paid.plans", false);
    b->plan_ids = ids.ids;
    b->plan_n = ids.n;
    b->plan_sorted = sort_ids(b, ids.ids, ids.n);
    for (uint32_t i = 0; i < v->count; i++) {
        const loy_yn *e = v->kids[i];
        const char *pp = idx(b, "paid.plans", i);
        loy_plan *pl = &p->plans[p->plan_count];
        if (!want_map(b, e, pp))
            continue;
        check_keys(b, e, pp, PLAN_KEYS);
        bool ok = need_all(b, e, pp, KEYS("id", "fee", "months"));
        const loy_yn *x;
        if ((x = mget(e, "id")) && !(pl->id = get_id(b, x, sub(b, pp, "id"))))
            ok = false;
        if ((x = mget(e, "fee")) && !get_money(b, x, sub(b, pp, "fee"), false, &pl->fee))
            ok = false;
        if ((x = mget(e, "months")) && !get_int32(b, x, sub(b, pp, "months"), 1, 1200, &pl->months))
            ok = false;
        if ((x = mget(e, "guarantee")) && !get_bool(b, x, sub(b, pp, "guarantee"), &pl->guarantee))
            ok = false;
        if (ok)
            p->plan_count++;
    }
    report_dups(b, ids.ids, ids.nodes, ids.n, "paid.plans", "plan id");
}

/* -------------------------------------------------------- lifecycle (§8) */

static const char *const STAGE_KEYS[] = {"id", "when", NULL};

/* Pass 1: the stage ids, before any condition refers to them. */
static void lifecycle_ids(builder *b, const loy_yn *root)
{
    const loy_yn *n = mget(root, "lifecycle");
    b->stages_ok = !n;  /* no lifecycle: no stage exists, references are errors */
    if (!n || n->kind != LOY_YN_SEQ)
        return;
    id_list ids = collect_ids(b, n, "lifecycle", false);
    b->stage_ids = ids.ids;
    b->stage_n = ids.n;
    b->stage_sorted = sort_ids(b, ids.ids, ids.n);
    b->stages_ok = ids.ok;
}

/* Pass 2: the stages with their conditions. */
static void build_lifecycle(builder *b, const loy_yn *root)
{
    loy_policy *p = b->p;
    const loy_yn *n = mget(root, "lifecycle");
    if (!n || !want_seq(b, n, "lifecycle"))
        return;
    if (n->count == 0) {
        err(b, n, "lifecycle: expected at least one stage (the last one without 'when')");
        return;
    }
    p->stages = palloc(b, n->count, sizeof *p->stages);
    if (!p->stages)
        return;
    p->has_lifecycle = true;
    id_list ids = collect_ids(b, n, "lifecycle", false);
    for (uint32_t i = 0; i < n->count; i++) {
        const loy_yn *e = n->kids[i];
        const char *sp = idx(b, "lifecycle", i);
        loy_stage *st = &p->stages[p->stage_count];
        if (!want_map(b, e, sp))
            continue;
        check_keys(b, e, sp, STAGE_KEYS);
        bool ok = need(b, e, sp, "id");
        const loy_yn *v;
        if ((v = mget(e, "id")) && !(st->id = get_id(b, v, sub(b, sp, "id"))))
            ok = false;
        bool last = i + 1 == n->count;
        if (last && mget(e, "when")) {
            err(b, mkey(e, "when"), "%s: the last stage takes no 'when': it holds every member no other stage takes",
                sp);
            ok = false;
        } else if (!last && !mget(e, "when")) {
            err(b, e, "%s: missing required key 'when' (only the last stage goes without)", sp);
            ok = false;
        } else if (!last) {
            st->when = get_when(b, e, sp, false, &ok);
        }
        if (ok)
            p->stage_count++;
    }
    report_dups(b, ids.ids, ids.nodes, ids.n, "lifecycle", "stage id");
}

/* ---------------------------------------------------------------- derived */

/* How many calendar months of buckets a state keeps (docs/state.md). */
static void derive_months_kept(builder *b)
{
    const loy_policy *p = b->p;
    int32_t m = 1;
    if (p->tiers.window == LOY_W_MONTHS && p->tiers.window_months > m)
        m = p->tiers.window_months;
    if (p->tiers.window == LOY_W_CALENDAR_YEAR && m < 12)
        m = 12;
    if (b->orders_months > m)
        m = b->orders_months;
    for (uint32_t i = 0; i < p->gifts.spend_count; i++)
        if (p->gifts.spend[i].period == LOY_SP_YEAR && m < 12)
            m = 12;
    b->p->months_kept = m < 13 ? 13 : m;
}

/* The LOY_KIND_GIFT listing: upgrade and birthday gifts in level order,
 * then surprise and spend gifts in policy order. */
static void derive_gift_ids(builder *b)
{
    loy_policy *p = b->p;
    const loy_gifts *g = &p->gifts;
    uint32_t n = g->upgrade_count + g->birthday_count + g->surprise_count + g->spend_count;
    p->gift_ids = palloc(b, n ? n : 1, sizeof *p->gift_ids);
    if (!p->gift_ids)
        return;
    uint32_t k = 0;
    for (int pass = 0; pass < 2; pass++) {
        const loy_reward **per = pass == 0 ? g->upgrade : g->birthday;
        for (uint32_t t = 0; per && t < p->tiers.count; t++)
            if (per[t] && k < n)
                p->gift_ids[k++] = loy_arena_printf(b->pa, "%s:%s", pass == 0 ? "upgrade" : "birthday",
                                                    p->tiers.levels[t].id);
    }
    for (uint32_t i = 0; i < g->surprise_count && k < n; i++)
        p->gift_ids[k++] = loy_arena_printf(b->pa, "surprise:%s", g->surprise[i].id);
    for (uint32_t i = 0; i < g->spend_count && k < n; i++)
        p->gift_ids[k++] = loy_arena_printf(b->pa, "spend:%s", g->spend[i].id);
    for (uint32_t i = 0; i < k; i++)
        if (!p->gift_ids[i])
            b->nomem = true;
    p->gift_id_count = k;
}

/* ------------------------------------------------------------------ build */

int loy_policy_build(loy_policy *p, const loy_yn *root, loy_arena *tmp, loy_diag *d)
{
    builder b;
    memset(&b, 0, sizeof b);
    b.p = p;
    b.pa = p->arena;
    b.tmp = tmp;
    b.d = d;
    b.minor = 2;
    b.money_unit = "money";
    p->minor_units = 2;
    p->points.cap_per_order = -1;
    p->points.cap_per_day = -1;
    p->points.redeem_step = 1;
    p->points.redeem_max_share = LOY_FIX_ONE;

    if (!root || (root->kind == LOY_YN_SCALAR && styp(root) == ST_NULL)) {
        err(&b, NULL, "the policy is empty: expected a mapping with loyalty_policy: 1 and tiers");
        return b.nomem ? LOY_E_NOMEM : LOY_E_POLICY;
    }
    if (root->kind != LOY_YN_MAP) {
        err(&b, root, "expected a mapping at the top of the policy, got %s", DESC(root));
        return b.nomem ? LOY_E_NOMEM : LOY_E_POLICY;
    }
    check_keys(&b, root, "", TOP_KEYS);
    const loy_yn *v;
    if (need(&b, root, "", "loyalty_policy")) {
        int64_t version;
        v = mget(root, "loyalty_policy");
        if (get_int(&b, v, "loyalty_policy", 0, INT64_MAX, &version) && version != 1)
            err(&b, v, "loyalty_policy: unsupported format version %s; this library reads version 1", v->text);
    }
    need(&b, root, "", "tiers");
    if ((v = mget(root, "program")))
        p->program = get_text(&b, v, "program");
    build_currency(&b, root);

    /* What conditions refer to, first. */
    build_tiers(&b, root);
    build_paid(&b, root);
    lifecycle_ids(&b, root);
    const loy_yn *gifts = mget(root, "gifts");
    b.has_birthday = gifts && gifts->kind == LOY_YN_MAP && mget(gifts, "birthday") != NULL;

    build_growth(&b, root);
    build_points(&b, root);
    build_gifts(&b, root);
    build_benefits(&b, root);
    build_lifecycle(&b, root);

    if (!b.nomem && d->count == 0) {
        derive_months_kept(&b);
        derive_gift_ids(&b);
    }
    if (b.nomem)
        return LOY_E_NOMEM;
    return d->count ? LOY_E_POLICY : LOY_OK;
}
