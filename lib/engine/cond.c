/*
 * Conditions (POLICY.md §9): whether a `when` holds for the member, the
 * event and (inside multipliers) the line under evaluation, and, for a
 * closed benefit, every failed entry written back as the policy wrote it
 * (§11.4).
 */
#include "engine.h"

static const char *const weekday_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static bool str_in(const char *const *list, uint32_t count, const char *s)
{
    if (!s)
        return false;
    /* The first byte settles most mismatches without a call. */
    for (uint32_t i = 0; i < count; i++)
        if (list[i][0] == s[0] && strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* Is interned id `id` in the cond's list? -1 (absent, or a string the
 * policy does not name) is in none, as strcmp found no match for it. */
static bool id_in(const loy_cond *cond, int32_t id)
{
    for (uint32_t i = 0; i < cond->count; i++)
        if (cond->ids[i] == id)
            return true;
    return false;
}

static int32_t id_of(const loy_ctx *c, const char *s)
{
    bool plain;
    return s ? loy_intern_lookup(&c->p->interned, s, strlen(s), &plain) : -1;
}

loy_line_ids loy_line_ids_of(const loy_ctx *c, const loy_line *line)
{
    if (c->line_ids && c->ev) {
        uintptr_t at = (uintptr_t)line, first = (uintptr_t)c->ev->lines;
        if (at >= first && at < first + c->ev->line_count * sizeof *line)
            return c->line_ids[(at - first) / sizeof *line];
    }
    loy_line_ids ids = {line->category.set ? id_of(c, line->category.s) : -1,
                        line->sku.set ? id_of(c, line->sku.s) : -1};
    return ids;
}

static bool int_in(const int32_t *list, uint32_t count, int64_t v)
{
    for (uint32_t i = 0; i < count; i++)
        if (list[i] == v)
            return true;
    return false;
}

static bool member_has_tag(const loy_member *m, const loy_cond *cond)
{
    for (size_t i = 0; i < m->tag_count; i++)
        if (str_in(cond->strs, cond->count, m->tags[i]))
            return true;
    return false;
}

static bool plan_runs(const loy_ctx *c)
{
    return c->m->plan >= 0 && c->day <= c->m->plan_until;
}

/* A failed sum can only mean it left int64: the true figure is then above
 * any threshold a policy can write. */
static bool sum_at_least(bool ok, int64_t sum, int64_t threshold)
{
    return !ok || sum >= threshold;
}

static bool orders_in_months(loy_ctx *c, const loy_cond *cond)
{
    loy_month to = c->dc_month;   /* the callers made sure the cache is filled */
    return loy_metric_reaches(c->m, LOY_METRIC_ORDERS, (loy_month)(to - (cond->n - 1)), to, cond->n2);
}

static bool time_between(const loy_ctx *c, const loy_cond *cond)
{
    int32_t now = c->at.seconds / 60, from = cond->ints[0], to = cond->ints[1];
    if (from < to)
        return now >= from && now < to;
    if (from > to)
        return now >= from || now < to;
    return false;
}

static bool birthday_holds(loy_ctx *c, const loy_cond *cond)
{
    const loy_member *m = c->m;
    if (m->birthday == LOY_DAY_NONE)
        return false;
    /* The per-event date cache (engine.h) holds this year's birthday: the
     * birthday moved into the event's year, Feb 29 to Feb 28 or Mar 1. */
    if (cond->word == LOY_BDAY_MONTH)
        return loy_ctx_birthday_month(c, m->birthday) == loy_ctx_month(c);
    switch (cond->word) {
    case LOY_BDAY_DAY:
        return loy_ctx_birthday_this_year(c, m->birthday) == c->day;
    default: {
        int32_t occurrence;
        return loy_birthday_occurrence(c->p, m->birthday, c->day, &occurrence);
    }
    }
}

/*
 * A predicate's test. Every event looks at a dozen or so (multipliers,
 * gifts, the lifecycle stages), most of them a compare or two; the ones that
 * call out are kept in functions of their own, so the dispatch saves no
 * registers and a cheap test costs about what it says.
 */
#define OUT_OF_LINE __attribute__((noinline))

static bool predicate_holds(loy_ctx *c, const loy_cond *cond);

/* The date tests below read the cache directly and come here, once an
 * event, to fill it first: their usual path then makes no call. */
static OUT_OF_LINE bool fill_dates_then_holds(loy_ctx *c, const loy_cond *cond)
{
    loy_ctx_dates_fill(c);
    return predicate_holds(c, cond);
}

static OUT_OF_LINE bool points_at_least(const loy_ctx *c, const loy_cond *cond)
{
    return loy_points_available(c->m) >= cond->n;
}

static OUT_OF_LINE bool spend_in_window(const loy_ctx *c, const loy_cond *cond)
{
    int64_t spend = 0;
    bool ok = loy_window_spend(c->p, c->m, c->day, &spend);
    return sum_at_least(ok, spend, cond->n);
}

static OUT_OF_LINE bool weekday_in(const loy_ctx *c, const loy_cond *cond)
{
    return int_in(cond->ints, cond->count, loy_weekday(c->day));
}

static OUT_OF_LINE bool day_of_month_in(loy_ctx *c, const loy_cond *cond)
{
    return int_in(cond->ints, cond->count, loy_ctx_ymd(c).d);
}

static OUT_OF_LINE bool month_in(loy_ctx *c, const loy_cond *cond)
{
    if (!loy_ctx_dates_ready(c))
        return fill_dates_then_holds(c, cond);
    return int_in(cond->ints, cond->count, c->dc_ymd.m);
}

static OUT_OF_LINE bool tags_hold(const loy_ctx *c, const loy_cond *cond)
{
    return member_has_tag(c->m, cond);
}

static OUT_OF_LINE bool line_category_in(const loy_ctx *c, const loy_cond *cond)
{
    return id_in(cond, loy_line_ids_of(c, c->line).category);
}

static OUT_OF_LINE bool line_sku_in(const loy_ctx *c, const loy_cond *cond)
{
    return id_in(cond, loy_line_ids_of(c, c->line).sku);
}

static OUT_OF_LINE bool orders_in_months_cold(loy_ctx *c, const loy_cond *cond)
{
    if (!loy_ctx_dates_ready(c))
        return fill_dates_then_holds(c, cond);
    return orders_in_months(c, cond);
}

static OUT_OF_LINE bool birthday_cold(loy_ctx *c, const loy_cond *cond)
{
    return birthday_holds(c, cond);
}

static OUT_OF_LINE bool channel_in(const loy_ctx *c, const loy_cond *cond)
{
    return str_in(cond->strs, cond->count, c->channel);
}

static OUT_OF_LINE bool store_in(const loy_ctx *c, const loy_cond *cond)
{
    return str_in(cond->strs, cond->count, c->store);
}

static bool predicate_holds(loy_ctx *c, const loy_cond *cond)
{
    const loy_member *m = c->m;
    /* A new or imported member's first stage has no event (§8): nothing
     * about one can hold. */
    switch (cond->op) {
    case LOY_C_TIER:
        return int_in(cond->ints, cond->count, m->tier);
    case LOY_C_TIER_AT_LEAST:
        return m->tier >= cond->n;
    case LOY_C_TIER_BELOW:
        return m->tier < cond->n;
    case LOY_C_POINTS_AT_LEAST:
        return points_at_least(c, cond);
    case LOY_C_PAID:
        if (cond->word == LOY_PAID_ACTIVE)
            return plan_runs(c);
        if (cond->word == LOY_PAID_NONE)
            return !plan_runs(c);
        return plan_runs(c) && int_in(cond->ints, cond->count, m->plan);
    case LOY_C_MEMBER_DAYS_AT_LEAST:
        return (int64_t)c->day - m->joined >= cond->n;
    case LOY_C_ORDERS_AT_LEAST:
        return m->orders >= cond->n;
    case LOY_C_ORDERS_IN_MONTHS:
        return orders_in_months_cold(c, cond);
    case LOY_C_SPEND_IN_WINDOW_AT_LEAST:
        return spend_in_window(c, cond);
    case LOY_C_DAYS_SINCE_LAST_ORDER_AT_LEAST: {
        loy_day since = m->last_order != LOY_DAY_NONE ? m->last_order : m->joined;
        return (int64_t)c->day - since >= cond->n;
    }
    case LOY_C_LIFECYCLE:
        return !c->no_event && int_in(cond->ints, cond->count, c->stage_at_start);
    case LOY_C_TAGS:
        return tags_hold(c, cond);
    case LOY_C_WEEKDAY:
        return !c->no_event && weekday_in(c, cond);
    case LOY_C_DAY_OF_MONTH:
        return !c->no_event && day_of_month_in(c, cond);
    case LOY_C_MONTH:
        return !c->no_event && month_in(c, cond);
    case LOY_C_DATE_BETWEEN:
        return !c->no_event && c->day >= cond->ints[0] && c->day <= cond->ints[1];
    case LOY_C_TIME_BETWEEN:
        return !c->no_event && time_between(c, cond);
    case LOY_C_BIRTHDAY:
        return !c->no_event && birthday_cold(c, cond);
    case LOY_C_CHANNEL:
        return !c->no_event && channel_in(c, cond);
    case LOY_C_STORE:
        return !c->no_event && store_in(c, cond);
    case LOY_C_ORDER_AT_LEAST:
        return !c->no_event && c->is_order && c->order_spend >= cond->n;
    case LOY_C_CATEGORY:
        return c->line && line_category_in(c, cond);
    case LOY_C_SKU:
        return c->line && line_sku_in(c, cond);
    default:
        return false;
    }
}

static bool holds(loy_ctx *c, const loy_cond *cond);

/* A group's entry: leaves go straight to their test, which keeps the
 * recursion (and its frame) to nested groups. */
static inline bool kid_holds(loy_ctx *c, const loy_cond *kid)
{
    if (kid->op > LOY_C_NOT)
        return predicate_holds(c, kid);
    /* the maps of an `any` or a `not` are nearly always one test each */
    if (kid->op == LOY_C_MAP && kid->count == 1 && kid->kids[0].op > LOY_C_NOT)
        return predicate_holds(c, &kid->kids[0]);
    return holds(c, kid);
}

static bool holds(loy_ctx *c, const loy_cond *cond)
{
    switch (cond->op) {
    case LOY_C_MAP:
    case LOY_C_ALL:
        for (uint32_t i = 0; i < cond->count; i++)
            if (!kid_holds(c, &cond->kids[i]))
                return false;
        return true;
    case LOY_C_ANY:
        for (uint32_t i = 0; i < cond->count; i++)
            if (kid_holds(c, &cond->kids[i]))
                return true;
        return false;
    case LOY_C_NOT:
        return cond->count == 0 || !kid_holds(c, &cond->kids[0]);
    default:
        return predicate_holds(c, cond);
    }
}

bool loy_cond_entry_holds(loy_ctx *c, const loy_cond *entry)
{
    /* A benefit's `not` is nearly always of one test (a staff price off
     * some channels): that test, without the group's frame. */
    if (entry->op == LOY_C_NOT && entry->count == 1) {
        const loy_cond *map = &entry->kids[0];
        if (map->count == 1 && map->kids[0].op > LOY_C_NOT)
            return !predicate_holds(c, &map->kids[0]);
    }
    return kid_holds(c, entry);
}

bool loy_cond_holds(loy_ctx *c, const loy_cond *when)
{
    if (when == NULL)
        return true;
    /* Nearly every `when` is a map of one entry: its test, without a group. */
    if (when->op == LOY_C_MAP && when->count == 1)
        return kid_holds(c, &when->kids[0]);
    return holds(c, when);
}

/* ------------------------------------------------------ as the policy wrote it */

static loy_node *render_map(loy_ctx *c, const loy_cond *map);
static inline loy_node *entry_map(loy_ctx *c, const loy_cond *cond);

typedef const char *(*id_name_fn)(const loy_ctx *c, int64_t index);

/* The ids or words as written: one value, or a list when the policy wrote
 * a list. Without `name` they are the cond's strings, else names of its ints. */
static loy_node *render_ids(loy_ctx *c, const loy_cond *cond, id_name_fn name)
{
    loy_result *r = c->r;
    if (!cond->as_list && cond->count == 1)
        return rn_str(r, name ? name(c, cond->ints[0]) : cond->strs[0]);
    loy_node *list = rn_list(r);
    for (uint32_t i = 0; i < cond->count; i++)
        rn_push(list, rn_str(r, name ? name(c, cond->ints[i]) : cond->strs[i]));
    return list;
}

static const char *tier_name(const loy_ctx *c, int64_t i) { return c->p->tiers.levels[i].id; }
static const char *plan_name(const loy_ctx *c, int64_t i) { return c->p->plans[i].id; }
static const char *stage_name(const loy_ctx *c, int64_t i) { return c->p->stages[i].id; }
static const char *weekday_name(const loy_ctx *c, int64_t i) { LOY_UNUSED(c); return weekday_names[i]; }

static loy_node *render_ints(loy_result *r, const loy_cond *cond)
{
    if (!cond->as_list && cond->count == 1)
        return rn_int(r, cond->ints[0]);
    loy_node *list = rn_list(r);
    for (uint32_t i = 0; i < cond->count; i++)
        rn_push(list, rn_int(r, cond->ints[i]));
    return list;
}

static loy_node *render_value(loy_ctx *c, const loy_cond *cond)
{
    loy_result *r = c->r;
    switch (cond->op) {
    case LOY_C_ALL:
    case LOY_C_ANY: {
        loy_node *list = rn_list(r);
        for (uint32_t i = 0; i < cond->count; i++)
            rn_push(list, render_map(c, &cond->kids[i]));
        return list;
    }
    case LOY_C_NOT:
        return cond->count ? render_map(c, &cond->kids[0]) : rn_map(r);
    case LOY_C_MAP:
        return render_map(c, cond);
    case LOY_C_TIER:
        return render_ids(c, cond, tier_name);
    case LOY_C_TIER_AT_LEAST:
    case LOY_C_TIER_BELOW:
        return rn_str(r, tier_name(c, cond->n));
    case LOY_C_PAID:
        if (cond->word == LOY_PAID_ACTIVE)
            return rn_str(r, "active");
        if (cond->word == LOY_PAID_NONE)
            return rn_str(r, "none");
        return render_ids(c, cond, plan_name);
    case LOY_C_ORDERS_IN_MONTHS: {
        loy_node *map = rn_map(r);
        rn_put_int(r, map, "months", cond->n);
        rn_put_int(r, map, "at_least", cond->n2);
        return map;
    }
    case LOY_C_LIFECYCLE:
        return render_ids(c, cond, stage_name);
    case LOY_C_WEEKDAY:
        return render_ids(c, cond, weekday_name);
    case LOY_C_DAY_OF_MONTH:
    case LOY_C_MONTH:
        return render_ints(r, cond);
    case LOY_C_DATE_BETWEEN: {
        loy_node *list = rn_list(r);
        rn_push(list, rn_date(r, cond->ints[0]));
        rn_push(list, rn_date(r, cond->ints[1]));
        return list;
    }
    case LOY_C_TIME_BETWEEN: {
        loy_node *list = rn_list(r);
        for (int i = 0; i < 2; i++)
            rn_push(list, rn_printf(r, "%02d:%02d", (int)(cond->ints[i] / 60), (int)(cond->ints[i] % 60)));
        return list;
    }
    case LOY_C_BIRTHDAY:
        return rn_str(r, cond->word == LOY_BDAY_DAY ? "day" : cond->word == LOY_BDAY_MONTH ? "month" : "window");
    case LOY_C_TAGS:
    case LOY_C_CHANNEL:
    case LOY_C_STORE:
    case LOY_C_CATEGORY:
    case LOY_C_SKU:
        return render_ids(c, cond, NULL);
    default:
        /* points, days, orders, money (already in minor units) */
        return rn_int(r, cond->n);
    }
}

static loy_node *render_map(loy_ctx *c, const loy_cond *map)
{
    if (map->count == 1) {
        loy_node *one = entry_map(c, &map->kids[0]);
        if (one)
            return one;
    }
    loy_node *out = rn_map(c->r);
    for (uint32_t i = 0; i < map->count; i++)
        rn_put(out, map->kids[i].key, render_value(c, &map->kids[i]));
    return out;
}

/* An entry whose value is ids or words (render_ids' answer): the map, the
 * list when there is one, and its strings in one take, built in place. */
static loy_node *ids_entry(loy_ctx *c, const loy_cond *cond, id_name_fn name)
{
    bool list = cond->as_list || cond->count != 1;
    uint32_t count = list ? cond->count : 1;
    loy_node *b = rn_block(c->r, (list ? 2u : 1u) + count);
    if (!b)
        return &loy_nomem_node;
    loy_node *map = rn_init_map(b, NULL), *n = b + 1;
    if (list)
        rn_link(map, rn_init_list(n++, cond->key));
    for (uint32_t i = 0; i < count; i++) {
        const char *s = name ? name(c, cond->ints[i]) : cond->strs[i];
        if (list)
            rn_link(map->first, rn_init_str(n + i, NULL, s));
        else
            rn_link(map, rn_init_str(n + i, cond->key, s));
    }
    return map;
}

/* The map {key: value} of one entry, as render_map gives it, in one take
 * for the entries whose value is a tier, a number, a word or ids: nearly
 * every reason, and the maps inside `any` and `not`. NULL for the rest,
 * left to render_value; the nomem node when the arena cannot grow (nomem
 * is set: the answer is rebuilt). */
static inline __attribute__((always_inline)) loy_node *entry_map(loy_ctx *c, const loy_cond *cond)
{
    switch (cond->op) {
    case LOY_C_TIER_AT_LEAST:
    case LOY_C_TIER_BELOW:
    case LOY_C_POINTS_AT_LEAST:
    case LOY_C_MEMBER_DAYS_AT_LEAST:
    case LOY_C_ORDERS_AT_LEAST:
    case LOY_C_SPEND_IN_WINDOW_AT_LEAST:
    case LOY_C_DAYS_SINCE_LAST_ORDER_AT_LEAST:
    case LOY_C_ORDER_AT_LEAST: {
        loy_node *b = rn_block(c->r, 2);
        if (!b)
            return &loy_nomem_node;
        loy_node *map = rn_init_map(b, NULL);
        if (cond->op == LOY_C_TIER_AT_LEAST || cond->op == LOY_C_TIER_BELOW)
            rn_link(map, rn_init_str(b + 1, cond->key, tier_name(c, cond->n)));
        else
            rn_link(map, rn_init_int(b + 1, cond->key, cond->n));
        return map;
    }
    case LOY_C_PAID:
        if (cond->word == LOY_PAID_ACTIVE || cond->word == LOY_PAID_NONE) {
            loy_node *b = rn_block(c->r, 2);
            if (!b)
                return &loy_nomem_node;
            loy_node *map = rn_init_map(b, NULL);
            rn_link(map, rn_init_str(b + 1, cond->key, cond->word == LOY_PAID_ACTIVE ? "active" : "none"));
            return map;
        }
        return ids_entry(c, cond, plan_name);
    case LOY_C_TIER:
        return ids_entry(c, cond, tier_name);
    case LOY_C_LIFECYCLE:
        return ids_entry(c, cond, stage_name);
    case LOY_C_WEEKDAY:
        return ids_entry(c, cond, weekday_name);
    case LOY_C_TAGS:
    case LOY_C_CHANNEL:
    case LOY_C_STORE:
    case LOY_C_CATEGORY:
    case LOY_C_SKU:
        return ids_entry(c, cond, NULL);
    default:
        return NULL;
    }
}

/* out of line: explain's loop stays lean for the entries that hold */
OUT_OF_LINE loy_node *loy_cond_reason(loy_ctx *c, const loy_cond *entry)
{
    loy_node *reason = entry_map(c, entry);
    if (!reason) {
        reason = rn_map(c->r);
        rn_put(reason, entry->key, render_value(c, entry));
    }
    return reason;
}

static bool explain(loy_ctx *c, const loy_cond *cond, loy_node *reasons);

/* A query explains every closed benefit: an entry that is no map or `all`
 * is tested in the loop, and only nested maps recurse. */
static inline bool explain_entry(loy_ctx *c, const loy_cond *cond, loy_node *reasons)
{
    if (cond->op == LOY_C_MAP || cond->op == LOY_C_ALL)
        return explain(c, cond, reasons);
    if (kid_holds(c, cond))
        return true;
    rn_push(reasons, loy_cond_reason(c, cond));
    return false;
}

static bool explain(loy_ctx *c, const loy_cond *cond, loy_node *reasons)
{
    /* A map or `all`: every failed entry is wanted, so no short cut; a
     * failed `all` gives its maps' reasons in place. */
    bool ok = true;
    for (uint32_t i = 0; i < cond->count; i++)
        if (!explain_entry(c, &cond->kids[i], reasons))
            ok = false;
    return ok;
}

bool loy_cond_explain(loy_ctx *c, const loy_cond *when, loy_node *reasons)
{
    if (when == NULL)
        return true;
    /* A map of one entry explains as that entry (most benefits' `when`). */
    if (when->op == LOY_C_MAP && when->count == 1)
        return explain_entry(c, &when->kids[0], reasons);
    return explain_entry(c, when, reasons);
}

void loy_trace_cond(loy_ctx *c, const char *rule, const loy_cond *when, const char *what)
{
    if (!c->trace)
        return;
    loy_trace(c, rule, false, "%s: condition failed", what);
    loy_node *entry = c->trace->last;
    if (entry && entry->kind == LOY_NODE_MAP) {
        loy_node *reasons = rn_list(c->r);
        loy_cond_explain(c, when, reasons);
        rn_put(entry, "reasons", reasons);
    }
}
