/*
 * Typed values read from the tree of load.c (POLICY.md §1-§2): errors and
 * paths, YAML 1.1 scalar typing, "did you mean", the keys of a mapping,
 * ids, words, booleans, decimals (money, factors, percentages), integers,
 * dates, times, and references to tiers, plans and stages. See build.h.
 */
#include "build.h"
#include "decimal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ------------------------------------------------------------- errors */

void pb_err(builder *b, const loy_yn *at, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    loy_vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!loy_diag_add(b->d, at ? at->line : 1, at ? at->col : 1, "%s", msg))
        b->nomem = true;
}

void *pb_palloc(builder *b, size_t count, size_t size)
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

void *pb_talloc(builder *b, size_t count, size_t size)
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

const char *pb_pstr(builder *b, const char *s, size_t len)
{
    char *c = loy_arena_strndup(b->pa, s, len);
    if (!c)
        b->nomem = true;
    return c;
}

/* path + "." + key, or key at the top level. */
const char *pb_sub(builder *b, const char *path, const char *key)
{
    char *s = *path ? loy_arena_printf(b->tmp, "%s.%s", path, key) : loy_arena_printf(b->tmp, "%s", key);
    if (!s) {
        b->nomem = true;
        return "?";
    }
    return s;
}

const char *pb_idx(builder *b, const char *path, uint32_t i)
{
    char *s = loy_arena_printf(b->tmp, "%s[%u]", path, i);
    if (!s) {
        b->nomem = true;
        return "?";
    }
    return s;
}

/* ----------------------------------------------------- scalar typing (§2) */

static bool is_xdigit(char c) { return pb_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

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

/* Digits at s[*i], at least lo and at most hi of them; advances *i. */
static bool digits_at(const char *s, size_t len, size_t *i, size_t lo, size_t hi)
{
    size_t k = 0;
    while (*i < len && k < hi && pb_is_digit(s[*i]))
        (*i)++, k++;
    return k >= lo;
}

/*
 * YAML 1.1 timestamp (yaml.org/type/timestamp): YYYY-MM-DD alone, or
 * YYYY-M(M)-D(D) followed by T, t or blanks and a time H(H):MM:SS, an
 * optional fraction and an optional zone, Z or ±H(H)[:MM], after optional
 * blanks (the spec's own example "2001-12-14 21:59:43.10 -5", as PyYAML
 * reads it). Anything else (2026-1-1, 2026-11-01 foo) is text.
 */
static bool looks_date(const char *s, size_t len)
{
    size_t i = 0, at;
    if (!digits_at(s, len, &i, 4, 4) || i >= len || s[i++] != '-')
        return false;
    at = i;
    if (!digits_at(s, len, &i, 1, 2) || i >= len || s[i++] != '-')
        return false;
    bool two = i - at == 3;
    at = i;
    if (!digits_at(s, len, &i, 1, 2))
        return false;
    two = two && i - at == 2;
    if (i == len)
        return two;
    if (s[i] == 'T' || s[i] == 't')
        i++;
    else if (s[i] == ' ' || s[i] == '\t')
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
    else
        return false;
    if (!digits_at(s, len, &i, 1, 2) || i >= len || s[i++] != ':' || !digits_at(s, len, &i, 2, 2) ||
        i >= len || s[i++] != ':' || !digits_at(s, len, &i, 2, 2))
        return false;
    if (i < len && s[i] == '.') {
        i++;
        digits_at(s, len, &i, 0, len);
    }
    size_t blank = i;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i == len)
        return blank == len;
    if (s[i] == 'Z')
        return i + 1 == len;
    if (s[i] != '+' && s[i] != '-')
        return false;
    i++;
    if (!digits_at(s, len, &i, 1, 2))
        return false;
    if (i < len && s[i] == ':') {
        i++;
        if (!digits_at(s, len, &i, 2, 2))
            return false;
    }
    return i == len;
}

/*
 * YAML 1.1 sexagesimal number, r without its sign: digits and `_`, then one
 * or more `:` parts of one or two digits below 60, then for a float a point
 * and digits. An int starts with 1-9 (`1:30` is 90, `0:30` text), a float
 * with any digit (`1:30.5`). Anything else with a `:` (`1:60`, `12:00:x`)
 * is text.
 */
static stype sexagesimal_type(const char *r, size_t rl)
{
    size_t k = 0;
    if (rl == 0 || !pb_is_digit(r[0]))
        return ST_STR;
    while (k < rl && (pb_is_digit(r[k]) || r[k] == '_'))
        k++;
    size_t parts = 0;
    while (k < rl && r[k] == ':') {
        size_t at = ++k;
        if (!digits_at(r, rl, &k, 1, 2) || (k - at == 2 && r[at] > '5'))
            return ST_STR;
        parts++;
    }
    if (parts == 0)
        return ST_STR;
    if (k == rl)
        return r[0] != '0' ? ST_INT : ST_STR;
    if (r[k++] != '.')
        return ST_STR;
    for (; k < rl; k++)
        if (!pb_is_digit(r[k]) && r[k] != '_')
            return ST_STR;
    return ST_FLOAT;
}

/* YAML 1.1 int (decimal, octal, hex, binary, sexagesimal; `_` allowed) or float. */
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
    if (memchr(r, ':', rl))
        return sexagesimal_type(r, rl);
    /* A leading point makes a float only unsigned and with a digit after
     * it (`.5`); `-.5`, `+.5` and `._5` are text, as in PyYAML. */
    if (r[0] == '.' && (i > 0 || rl < 2 || !pb_is_digit(r[1])))
        return ST_STR;
    size_t digits = 0, points = 0, k = 0;
    for (; k < rl; k++) {
        if (pb_is_digit(r[k]))
            digits++;
        else if (r[k] == '.')
            points++;
        else if (r[k] != '_')
            break;
    }
    if (digits == 0 || points > 1)
        return ST_STR;
    if (k < rl) {
        /* An exponent: YAML 1.1 (and libyaml's loaders) reads a float only
         * with a point before it and a sign after the e (1.5e+3); `1e3`,
         * `1e+3` and `2E10` are text, so they serve as ids (§2). Money and
         * counts still refuse them: their parser names the exponent. */
        if (r[k] != 'e' && r[k] != 'E')
            return ST_STR;
        k++;
        if (points == 0 || k >= rl || (r[k] != '+' && r[k] != '-'))
            return ST_STR;
        k++;
        if (k >= rl)
            return ST_STR;
        for (; k < rl; k++)
            if (!pb_is_digit(r[k]))
                return ST_STR;
        return ST_FLOAT;
    }
    if (r[0] == '_')
        return ST_STR;
    /* a leading 0 makes an octal int: with an 8 or 9 (`08`) it is text */
    if (!points && r[0] == '0')
        for (k = 1; k < rl; k++)
            if (r[k] == '8' || r[k] == '9')
                return ST_STR;
    return points ? ST_FLOAT : ST_INT;
}

stype pb_styp(const loy_yn *n)
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

int pb_base(const loy_yn *n)
{
    stype t = pb_styp(n);
    if (t != ST_INT && t != ST_FLOAT)
        return 0;
    if (memchr(n->text, ':', n->len))
        return 60;
    const char *r = n->text + (n->text[0] == '+' || n->text[0] == '-');
    if (r[0] == '0' && (r[1] == 'x' || r[1] == 'b'))
        return r[1] == 'x' ? 16 : 2;
    return 0;
}

/* A short description of a node for "got ..." (into buf). */
const char *pb_desc(const loy_yn *n, char *buf, size_t cap)
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
    switch (pb_styp(n)) {
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

size_t pb_count_words(const char *const *words)
{
    size_t n = 0;
    while (words[n])
        n++;
    return n;
}

/* "; did you mean 'X'?" or "". */
const char *pb_hint(builder *b, const char *word, const char *const *cands, size_t n)
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
const char *pb_join_words(builder *b, const char *const *words, const char *last_sep)
{
    size_t n = pb_count_words(words), total = 1;
    for (size_t i = 0; i < n; i++)
        total += strlen(words[i]) + 4;
    char *s = pb_talloc(b, total, 1);
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

const loy_yn *pb_mget(const loy_yn *m, const char *key)
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

const loy_yn *pb_mkey(const loy_yn *m, const char *key)
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

bool pb_want_map(builder *b, const loy_yn *n, const char *path)
{
    if (n->kind == LOY_YN_MAP)
        return true;
    pb_err(b, n, "%s: expected a mapping, got %s", path, DESC(n));
    return false;
}

bool pb_want_seq(builder *b, const loy_yn *n, const char *path)
{
    if (n->kind == LOY_YN_SEQ)
        return true;
    pb_err(b, n, "%s: expected a list, got %s", path, DESC(n));
    return false;
}

bool pb_need(builder *b, const loy_yn *m, const char *path, const char *key)
{
    if (pb_mget(m, key))
        return true;
    if (*path)
        pb_err(b, m, "%s: missing required key '%s'", path, key);
    else
        pb_err(b, m, "missing required top-level key '%s'", key);
    return false;
}

/* pb_need() for each key (every missing one reported); true when all are there. */
bool pb_need_all(builder *b, const loy_yn *m, const char *path, const char *const *keys)
{
    bool ok = true;
    for (; *keys; keys++)
        ok = pb_need(b, m, path, *keys) && ok;
    return ok;
}

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
void pb_report_dups(builder *b, const char **ids, const loy_yn *const *nodes, uint32_t n,
                        const char *path, const char *what)
{
    if (n < 2)
        return;
    named *v = pb_talloc(b, n, sizeof *v);
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
            pb_err(b, nodes[v[k].i], "%s: %s '%s' repeated (first at %u:%u)", path, what, v[k].id, f->line, f->col);
        else
            pb_err(b, nodes[v[k].i], "top-level %s '%s' repeated (first at %u:%u)", what, v[k].id, f->line, f->col);
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
void pb_check_keys(builder *b, const loy_yn *m, const char *path, const char *const *allowed)
{
    if (!m || m->kind != LOY_YN_MAP)
        return;
    const char **ids = pb_talloc(b, m->count ? m->count : 1, sizeof *ids);
    const loy_yn **nodes = pb_talloc(b, m->count ? m->count : 1, sizeof *nodes);
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
        const char *h = pb_hint(b, k->text, allowed, pb_count_words(allowed));
        if (!*h) {
            for (size_t j = 0; j < LOY_ARRAY_LEN(MISPLACED); j++)
                if (strcmp(MISPLACED[j].where, path) == 0 && strcmp(MISPLACED[j].key, k->text) == 0) {
                    if (*path)
                        pb_err(b, k, "%s: key '%s' belongs under %s", path, k->text, MISPLACED[j].belongs);
                    else
                        pb_err(b, k, "top-level key '%s' belongs under %s", k->text, MISPLACED[j].belongs);
                    goto next;
                }
            h = loy_arena_printf(b->tmp, "; expected %s", pb_join_words(b, allowed, " or "));
            if (!h) {
                b->nomem = true;
                h = "";
            }
        }
        if (*path)
            pb_err(b, k, "unknown key '%s' in %s%s", k->text, path, h);
        else
            pb_err(b, k, "unknown top-level key '%s'%s", k->text, h);
    next:;
    }
    pb_report_dups(b, ids, nodes, m->count, path, "key");
}

/* ---------------------------------------------------------------- values */

/* Text that may not be empty or hold a NUL (ids); returns a policy copy. */
const char *pb_text_of(builder *b, const loy_yn *n, const char *path, bool allow_empty)
{
    if (memchr(n->text, '\0', n->len)) {
        pb_err(b, n, "%s: text may not contain a NUL character", path);
        return NULL;
    }
    if (!allow_empty && n->len == 0) {
        pb_err(b, n, "%s: an id may not be empty", path);
        return NULL;
    }
    return pb_pstr(b, n->text, n->len);
}

/* An id (§2): text, or an unquoted integer taken as its text. */
const char *pb_id(builder *b, const loy_yn *n, const char *path)
{
    if (n->kind != LOY_YN_SCALAR) {
        pb_err(b, n, "%s: expected an id, got %s", path, DESC(n));
        return NULL;
    }
    stype t = pb_styp(n);
    if (t == ST_NULL || t == ST_BOOL || t == ST_DATE || t == ST_FLOAT) {
        pb_err(b, n, "%s: expected an id, got %s (quote it to mean text)", path, DESC(n));
        return NULL;
    }
    return pb_text_of(b, n, path, false);
}

/* Free text (program, names). */
const char *pb_text(builder *b, const loy_yn *n, const char *path)
{
    if (n->kind != LOY_YN_SCALAR) {
        pb_err(b, n, "%s: expected text, got %s", path, DESC(n));
        return NULL;
    }
    stype t = pb_styp(n);
    if (t == ST_NULL || t == ST_BOOL) {
        pb_err(b, n, "%s: expected text, got %s (quote it to mean text)", path, DESC(n));
        return NULL;
    }
    return pb_text_of(b, n, path, true);
}

/* A word of a closed list; returns its index or -1 (reported). */
int pb_word(builder *b, const loy_yn *n, const char *path, const char *const *words)
{
    const char *list = pb_join_words(b, words, " or ");
    if (n->kind != LOY_YN_SCALAR || pb_styp(n) == ST_NULL || pb_styp(n) == ST_BOOL) {
        pb_err(b, n, "%s: expected %s, got %s", path, list, DESC(n));
        return -1;
    }
    for (int i = 0; words[i]; i++)
        if (strcmp(n->text, words[i]) == 0)
            return i;
    pb_err(b, n, "%s: expected %s, got %s%s", path, list, DESC(n), pb_hint(b, n->text, words, pb_count_words(words)));
    return -1;
}

bool pb_bool(builder *b, const loy_yn *n, const char *path, bool *out)
{
    if (n->kind == LOY_YN_SCALAR && pb_styp(n) == ST_BOOL) {
        *out = one_of(n->text, TRUE_WORDS);
        return true;
    }
    pb_err(b, n, "%s: expected true or false, got %s", path, DESC(n));
    return false;
}

/* A decimal scaled by 10^scale. what: the expectation; unit: for "takes at most N decimals". */
bool pb_decimal(builder *b, const loy_yn *n, const char *path, int scale, const char *what,
                        const char *unit, int64_t *out)
{
    if (n->kind != LOY_YN_SCALAR) {
        pb_err(b, n, "%s: expected %s, got %s", path, what, DESC(n));
        return false;
    }
    stype t = pb_styp(n);
    if (t == ST_NULL || t == ST_BOOL || t == ST_DATE) {
        pb_err(b, n, "%s: expected %s, got %s", path, what, DESC(n));
        return false;
    }
    switch (loy_decimal_parse(n->text, n->len, !n->plain, scale, out, NULL)) {
    case LOY_DEC_OK:
        return true;
    case LOY_DEC_SYNTAX: {
        /* YAML 1.1 reads 0x1F, 0b101 and 1:30 as integers (§2): say so,
         * rather than that they are not numbers. */
        int base = pb_base(n);
        if (base)
            pb_err(b, n, "%s: write the number in decimal digits, got %s (a base-%d number in YAML 1.1)", path, n->text,
                base);
        else
            pb_err(b, n, "%s: expected %s, got %s", path, what, DESC(n));
        break;
    }
    case LOY_DEC_NEGATIVE:
        pb_err(b, n, "%s: must not be negative, got %s", path, n->text);
        break;
    case LOY_DEC_SIGN:
        pb_err(b, n, "%s: a number takes no sign, got %s", path, n->text);
        break;
    case LOY_DEC_EXPONENT:
        pb_err(b, n, "%s: write the number without an exponent, got %s", path, n->text);
        break;
    case LOY_DEC_LEADING_DOT:
        pb_err(b, n, "%s: write a digit before the decimal point (0.5, not .5), got %s", path, n->text);
        break;
    case LOY_DEC_QUOTED_GROUPING:
        pb_err(b, n, "%s: '_' may group digits only in an unquoted number, got \"%s\"", path, n->text);
        break;
    case LOY_DEC_LEADING_ZERO:
        pb_err(b, n, "%s: a number may not start with 0 (YAML 1.1 reads it as %s), got %s", path,
            pb_styp(n) == ST_INT ? "octal" : "text", n->text);
        break;
    case LOY_DEC_DECIMALS:
        if (scale == 0)
            pb_err(b, n, "%s: %s takes no decimals, got %s", path, unit, n->text);
        else
            pb_err(b, n, "%s: %s takes at most %d decimals, got %s", path, unit, scale, n->text);
        break;
    case LOY_DEC_OVERFLOW:
        pb_err(b, n, "%s: number too large, got %s", path, DESC(n));
        break;
    }
    return false;
}

bool pb_money(builder *b, const loy_yn *n, const char *path, bool positive, int64_t *out)
{
    char what[64];
    snprintf(what, sizeof what, "an amount of money (at most %d decimals)", (int)b->minor);
    if (!pb_decimal(b, n, path, b->minor, what, b->money_unit, out))
        return false;
    if (positive && *out <= 0) {
        pb_err(b, n, "%s: must be greater than 0, got %s", path, n->text);
        return false;
    }
    return true;
}

/* A factor, share or benefit value: 4 decimals. unit: "a factor"... */
bool pb_fix(builder *b, const loy_yn *n, const char *path, const char *unit, int64_t *out)
{
    return pb_decimal(b, n, path, 4, "a decimal number (at most 4 decimals)", unit, out);
}

/* A non-negative, unquoted integer in lo..hi. */
bool pb_int(builder *b, const loy_yn *n, const char *path, int64_t lo, int64_t hi, int64_t *out)
{
    if (n->kind != LOY_YN_SCALAR || pb_styp(n) == ST_NULL || pb_styp(n) == ST_BOOL || pb_styp(n) == ST_DATE) {
        pb_err(b, n, "%s: expected an integer, got %s", path, DESC(n));
        return false;
    }
    bool point = false;
    loy_dec_status st = loy_decimal_parse(n->text, n->len, !n->plain, 0, out, &point);
    if (st == LOY_DEC_DECIMALS || (st == LOY_DEC_OK && point)) {
        pb_err(b, n, "%s: expected an integer, got %s", path, DESC(n));
        return false;
    }
    if (st == LOY_DEC_NEGATIVE) {
        pb_err(b, n, "%s: must not be negative, got %s", path, n->text);
        return false;
    }
    if (st != LOY_DEC_OK) {
        /* the same messages as decimals */
        return pb_decimal(b, n, path, 0, "an integer", "an integer", out);
    }
    if (!n->plain) {
        pb_err(b, n, "%s: write an integer unquoted, got %s", path, DESC(n));
        return false;
    }
    if (*out < lo || *out > hi) {
        if (hi == INT64_MAX)
            pb_err(b, n, "%s: must be at least %lld, got %s", path, (long long)lo, n->text);
        else
            pb_err(b, n, "%s: must be %lld..%lld, got %s", path, (long long)lo, (long long)hi, n->text);
        return false;
    }
    return true;
}

bool pb_int32(builder *b, const loy_yn *n, const char *path, int64_t lo, int64_t hi, int32_t *out)
{
    int64_t v;
    if (!pb_int(b, n, path, lo, hi, &v))
        return false;
    *out = (int32_t)v;
    return true;
}

bool pb_date(builder *b, const loy_yn *n, const char *path, loy_day *out)
{
    if (n->kind == LOY_YN_SCALAR && loy_parse_date(n->text, n->len, out))
        return true;
    if (n->kind == LOY_YN_SCALAR && n->len == 10 && looks_date(n->text, n->len))
        pb_err(b, n, "%s: %s is not a date of the calendar", path, n->text);
    else
        pb_err(b, n, "%s: expected a date YYYY-MM-DD, got %s", path, DESC(n));
    return false;
}

bool pb_time(builder *b, const loy_yn *n, const char *path, int32_t *out)
{
    /* Unquoted 14:00 is a sexagesimal integer in YAML 1.1; here it is the text. */
    if (n->kind == LOY_YN_SCALAR && loy_parse_hhmm(n->text, n->len, out))
        return true;
    if (pb_base(n) == 60) {
        /* read as text here, so shown as text: '9:00', not the number */
        pb_err(b, n, "%s: expected a time HH:MM (00:00 to 23:59), got '%s'", path, n->text);
        return false;
    }
    pb_err(b, n, "%s: expected a time HH:MM (00:00 to 23:59), got %s", path, DESC(n));
    return false;
}

/* One value or a list of them (§9). */
const loy_yn *const *pb_items_of(const loy_yn *const *one, uint32_t *count, bool *as_list)
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
bool pb_strs(builder *b, const loy_yn *n, const char *path, loy_strs *out, bool *as_list)
{
    uint32_t count;
    bool list;
    const loy_yn *const *items = pb_items_of(&n, &count, &list);
    if (as_list)
        *as_list = list;
    if (n->kind == LOY_YN_MAP) {
        pb_err(b, n, "%s: expected an id or a list of ids, got a mapping", path);
        return false;
    }
    out->count = 0;
    out->items = pb_palloc(b, count ? count : 1, sizeof *out->items);
    if (!out->items)
        return false;
    bool ok = true;
    for (uint32_t i = 0; i < count; i++) {
        const char *id = pb_id(b, items[i], list ? pb_idx(b, path, i) : path);
        if (id)
            out->items[out->count++] = id;
        else
            ok = false;
    }
    return ok;
}

/* ----------------------------------------------------------- references */

/* ids[0..n) sorted by (id, index), NULL ids left out; n entries allocated. */
named *pb_sort_ids(builder *b, const char *const *ids, uint32_t n)
{
    named *v = pb_talloc(b, n ? n : 1, sizeof *v);
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
int pb_tier_ref(builder *b, const loy_yn *n, const char *path)
{
    const char *id = pb_id(b, n, path);
    if (!id)
        return -1;
    if (!b->tiers_ok)
        return -2;
    int i = find_id(b->tier_sorted, b->tier_n, id);
    if (i < 0)
        pb_err(b, n, "%s: unknown tier '%s'%s", path, id, pb_hint(b, id, b->tier_ids, b->tier_n));
    return i;
}

int pb_plan_ref(builder *b, const loy_yn *n, const char *path)
{
    const char *id = pb_id(b, n, path);
    if (!id)
        return -1;
    int i = find_id(b->plan_sorted, b->plan_n, id);
    if (i >= 0)
        return i;
    if (b->plan_n == 0)
        pb_err(b, n, "%s: unknown plan '%s' (the policy has no paid plans)", path, id);
    else
        pb_err(b, n, "%s: unknown plan '%s'%s", path, id, pb_hint(b, id, b->plan_ids, b->plan_n));
    return -1;
}

int pb_stage_ref(builder *b, const loy_yn *n, const char *path)
{
    const char *id = pb_id(b, n, path);
    if (!id)
        return -1;
    if (!b->stages_ok)
        return -2;
    int i = find_id(b->stage_sorted, b->stage_n, id);
    if (i >= 0)
        return i;
    if (b->stage_n == 0)
        pb_err(b, n, "%s: unknown lifecycle stage '%s' (the policy has no lifecycle)", path, id);
    else
        pb_err(b, n, "%s: unknown lifecycle stage '%s'%s", path, id, pb_hint(b, id, b->stage_ids, b->stage_n));
    return -1;
}

