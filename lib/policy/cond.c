/*
 * Conditions (`when`, POLICY.md §9) compiled into loy_cond trees
 * (lib/policy.h): every predicate, one value or a list (as_list kept for
 * the reasons the engine echoes), groups all/any/not, line predicates only
 * inside points.earn.multipliers, references resolved to indices. The
 * engine evaluates them in lib/engine/cond.c.
 */
#include "build.h"

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
    const loy_yn *const *items = pb_items_of(&val, &count, &c->as_list);
    c->ints = pb_palloc(b, count ? count : 1, sizeof *c->ints);
    if (!c->ints)
        return false;
    bool ok = true;
    for (uint32_t i = 0; i < count; i++) {
        const char *ipath = c->as_list ? pb_idx(b, path, i) : path;
        if (items[i]->kind != LOY_YN_SCALAR) {
            pb_err(b, items[i], "%s: expected %s, got %s", ipath,
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
    int i = pb_tier_ref(b, n, path);
    return i == -2 ? 0 : i;
}

static int one_stage(builder *b, const loy_yn *n, const char *path, const pred *pd)
{
    LOY_UNUSED(pd);
    int i = pb_stage_ref(b, n, path);
    return i == -2 ? 0 : i;
}

static int one_plan(builder *b, const loy_yn *n, const char *path, const pred *pd)
{
    LOY_UNUSED(pd);
    return pb_plan_ref(b, n, path);
}

static int one_weekday(builder *b, const loy_yn *n, const char *path, const pred *pd)
{
    LOY_UNUSED(pd);
    return pb_word(b, n, path, WEEKDAYS);
}

static int one_int(builder *b, const loy_yn *n, const char *path, const pred *pd)
{
    int32_t v;
    return pb_int32(b, n, path, pd->lo, pd->hi, &v) ? v : -1;
}

/* Exactly two values [from, to]. */
static bool pair_of(builder *b, const loy_yn *val, const char *path, const char *what)
{
    if (val->kind == LOY_YN_SEQ && val->count == 2)
        return true;
    pb_err(b, val, "%s: expected a list of two %s [from, to], got %s", path, what,
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
        if (!pb_want_seq(b, val, path))
            return false;
        c->kids = pb_palloc(b, val->count ? val->count : 1, sizeof *c->kids);
        if (!c->kids)
            return false;
        bool ok = true;
        for (uint32_t i = 0; i < val->count; i++) {
            ok &= cond_map(b, &c->kids[c->count], val->kids[i], pb_idx(b, path, i), line_ok);
            c->has_line_pred |= c->kids[c->count].has_line_pred;
            c->count++;
        }
        return ok;
    }
    case A_GROUP:
        c->kids = pb_palloc(b, 1, sizeof *c->kids);
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
            pb_err(b, val, "%s: expected one tier id, got %s", path, DESC(val));
            return false;
        }
        int i = pb_tier_ref(b, val, path);
        c->n = i < 0 ? 0 : i;
        return i != -1;
    }
    case A_COUNT:
        return pb_int(b, val, path, 0, INT64_MAX, &c->n);
    case A_MONEY:
        return pb_money(b, val, path, false, &c->n);
    case A_PAID:
        if (val->kind == LOY_YN_SCALAR && (strcmp(val->text, "active") == 0 || strcmp(val->text, "none") == 0)) {
            c->word = strcmp(val->text, "active") == 0 ? LOY_PAID_ACTIVE : LOY_PAID_NONE;
            return true;
        }
        c->word = LOY_PAID_PLANS;
        return cond_ints(b, c, val, path, one_plan, pd);
    case A_ORDERS_IN: {
        if (!pb_want_map(b, val, path))
            return false;
        static const char *const keys[] = {"months", "at_least", NULL};
        pb_check_keys(b, val, path, keys);
        bool ok = pb_need_all(b, val, path, KEYS("months", "at_least"));
        const loy_yn *m = pb_mget(val, "months"), *a = pb_mget(val, "at_least");
        if (m && pb_int(b, m, pb_sub(b, path, "months"), 1, 1200, &c->n)) {
            if (c->n > b->orders_months)
                b->orders_months = (int32_t)c->n;
        } else {
            ok = false;
        }
        if (a && !pb_int(b, a, pb_sub(b, path, "at_least"), 0, INT64_MAX, &c->n2))
            ok = false;
        return ok;
    }
    case A_STAGES:
        return cond_ints(b, c, val, path, one_stage, pd);
    case A_STRS: {
        loy_strs s = {0};
        bool ok = pb_strs(b, val, path, &s, &c->as_list);
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
        c->ints = pb_palloc(b, 2, sizeof *c->ints);
        if (!c->ints)
            return false;
        c->count = 2;
        loy_day from, to;
        bool ok = pb_date(b, val->kids[0], pb_idx(b, path, 0), &from);
        ok &= pb_date(b, val->kids[1], pb_idx(b, path, 1), &to);
        if (!ok)
            return false;
        if (from > to) {
            pb_err(b, val, "%s: from %s is after to %s", path, val->kids[0]->text, val->kids[1]->text);
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
        c->ints = pb_palloc(b, 2, sizeof *c->ints);
        if (!c->ints)
            return false;
        c->count = 2;
        bool ok = pb_time(b, val->kids[0], pb_idx(b, path, 0), &c->ints[0]);
        ok &= pb_time(b, val->kids[1], pb_idx(b, path, 1), &c->ints[1]);
        return ok;
    }
    case A_BIRTHDAY: {
        int w = pb_word(b, val, path, BDAY_WORDS);
        if (w < 0)
            return false;
        c->word = w == 0 ? LOY_BDAY_DAY : w == 1 ? LOY_BDAY_MONTH : LOY_BDAY_WINDOW;
        if (c->word == LOY_BDAY_WINDOW && !b->has_birthday) {
            pb_err(b, val, "%s: 'window' means the gifts.birthday window, and the policy has no gifts.birthday", path);
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
        pb_err(b, n, "%s: expected a mapping of conditions, got %s", path, DESC(n));
        return false;
    }
    pb_check_keys(b, n, path, NULL);
    out->kids = pb_palloc(b, n->count ? n->count : 1, sizeof *out->kids);
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
            const char *h = pb_hint(b, k->text, PRED_NAMES, pb_count_words(PRED_NAMES));
            if (*h)
                pb_err(b, k, "%s: unknown condition '%s'%s", path, k->text, h);
            else
                pb_err(b, k, "%s: unknown condition '%s'; expected one of %s", path, k->text,
                    pb_join_words(b, PRED_NAMES, ", "));
            ok = false;
            continue;
        }
        if (pd->line && !line_ok) {
            pb_err(b, k, "%s: '%s' is a line condition, allowed only in points.earn.multipliers", path, k->text);
            ok = false;
            continue;
        }
        loy_cond *c = &out->kids[out->count++];
        ok &= cond_pred(b, c, pd, v, pb_sub(b, path, k->text), line_ok);
        out->has_line_pred |= c->has_line_pred;
    }
    return ok;
}

/* The `when` of a rule; NULL when absent or wrong (reported). */
const loy_cond *pb_when(builder *b, const loy_yn *map, const char *path, bool line_ok, bool *ok)
{
    const loy_yn *w = pb_mget(map, "when");
    if (!w)
        return NULL;
    loy_cond *c = pb_palloc(b, 1, sizeof *c);
    if (!c)
        return NULL;
    if (!cond_map(b, c, w, pb_sub(b, path, "when"), line_ok)) {
        if (ok)
            *ok = false;
        return NULL;
    }
    return c;
}

uint32_t loy_cond_leaf_count(const loy_cond *c)
{
    if (c->op != LOY_C_MAP && c->op != LOY_C_ALL)
        return 1;
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->count; i++)
        n += loy_cond_leaf_count(&c->kids[i]);
    return n;
}

void loy_cond_each_leaf(const loy_cond *c, void (*leaf)(const loy_cond *, void *), void *ctx)
{
    if (c->op != LOY_C_MAP && c->op != LOY_C_ALL) {
        leaf(c, ctx);
        return;
    }
    for (uint32_t i = 0; i < c->count; i++)
        loy_cond_each_leaf(&c->kids[i], leaf, ctx);
}
