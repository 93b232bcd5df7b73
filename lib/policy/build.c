/*
 * The tree of load.c -> struct loy_policy (lib/policy.h), section by
 * section, validating every rule of POLICY.md §2-§8 (conditions, §9, are
 * compiled by cond.c; single values are read by values.c).
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
#include "build.h"
#include "decimal.h"

/* --------------------------------------------------- limits and rewards */

static const char *const LIMIT_KEYS[] = {"count", "per", NULL};
static const char *const LIMIT_PER[] = {"day", "week", "month", "year", NULL};
static const char *const ONCE_WORD[] = {"once", NULL};

/* once | {count: N >= 1, per: day|week|month|year} (§4.3, §6) */
static bool get_limit(builder *b, const loy_yn *n, const char *path, loy_limit *out)
{
    out->kind = LOY_LIMIT_NONE;
    if (n->kind != LOY_YN_MAP) {
        if (n->kind == LOY_YN_SCALAR && pb_styp(n) == ST_STR && strcmp(n->text, "once") == 0) {
            out->kind = LOY_LIMIT_ONCE;
            return true;
        }
        pb_err(b, n, "%s: expected once or {count: N, per: day|week|month|year}, got %s%s", path, DESC(n),
            n->kind == LOY_YN_SCALAR ? pb_hint(b, n->text, ONCE_WORD, 1) : "");
        return false;
    }
    pb_check_keys(b, n, path, LIMIT_KEYS);
    bool ok = pb_need_all(b, n, path, KEYS("count", "per"));
    const loy_yn *c = pb_mget(n, "count"), *per = pb_mget(n, "per");
    if (c && !pb_int(b, c, pb_sub(b, path, "count"), 1, INT64_MAX, &out->count))
        ok = false;
    if (per) {
        int w = pb_word(b, per, pb_sub(b, path, "per"), LIMIT_PER);
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
    if (!pb_want_map(b, n, path))
        return NULL;
    pb_check_keys(b, n, path, REWARD_KEYS);
    loy_reward *r = pb_palloc(b, 1, sizeof *r);
    if (!r)
        return NULL;
    bool ok = true;
    if (n->count == 0) {
        pb_err(b, n, "%s: a reward needs at least one of points, coupons, items or credit", path);
        ok = false;
    }
    const loy_yn *v;
    if ((v = pb_mget(n, "points"))) {
        r->has_points = pb_int(b, v, pb_sub(b, path, "points"), 0, INT64_MAX, &r->points);
        ok &= r->has_points;
    }
    if ((v = pb_mget(n, "coupons"))) {
        r->has_coupons = pb_strs(b, v, pb_sub(b, path, "coupons"), &r->coupons, NULL);
        ok &= r->has_coupons;
    }
    if ((v = pb_mget(n, "items"))) {
        r->has_items = pb_strs(b, v, pb_sub(b, path, "items"), &r->items, NULL);
        ok &= r->has_items;
    }
    if ((v = pb_mget(n, "credit"))) {
        r->has_credit = pb_money(b, v, pb_sub(b, path, "credit"), false, &r->credit);
        ok &= r->has_credit;
    }
    return ok ? r : NULL;
}

/* tier -> reward; per tier index (NULL: no gift); *count the entries. */
static const loy_reward **by_tier_rewards(builder *b, const loy_yn *n, const char *path, uint32_t *count)
{
    *count = 0;
    if (!pb_want_map(b, n, path))
        return NULL;
    pb_check_keys(b, n, path, NULL);
    const loy_reward **per = pb_palloc(b, b->tier_n ? b->tier_n : 1, sizeof *per);
    if (!per)
        return NULL;
    for (uint32_t i = 0; i < n->count; i++) {
        const loy_yn *k = loy_yn_key(n, i);
        if (k->merge_key)
            continue;
        int t = pb_tier_ref(b, k, path);
        const char *kid = k->kind == LOY_YN_SCALAR ? k->text : "?";
        const loy_reward *r = get_reward(b, loy_yn_val(n, i), pb_sub(b, path, kid));
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
    if (!pb_want_map(b, n, path))
        return;
    pb_check_keys(b, n, path, EXCLUDE_KEYS);
    const loy_yn *v;
    if ((v = pb_mget(n, "categories")))
        pb_strs(b, v, pb_sub(b, path, "categories"), cats, NULL);
    if ((v = pb_mget(n, "skus")))
        pb_strs(b, v, pb_sub(b, path, "skus"), skus, NULL);
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
    l.ids = pb_talloc(b, n ? n : 1, sizeof *l.ids);
    l.nodes = pb_talloc(b, n ? n : 1, sizeof *l.nodes);
    if (!l.ids || !l.nodes) {
        l.ok = false;
        return l;
    }
    l.n = n;
    for (uint32_t i = 0; i < n; i++) {
        const loy_yn *e = seq->kids[i];
        const loy_yn *idn = e->kind == LOY_YN_MAP ? pb_mget(e, "id") : NULL;
        if (!idn) {
            l.ok = false;
            continue;
        }
        l.nodes[i] = idn;
        if (report) {
            l.ids[i] = pb_id(b, idn, pb_sub(b, pb_idx(b, path, i), "id"));
        } else if (idn->kind == LOY_YN_SCALAR) {
            stype t = pb_styp(idn);
            if (t != ST_NULL && t != ST_BOOL && t != ST_DATE && t != ST_FLOAT && idn->len > 0 &&
                !memchr(idn->text, 0, idn->len))
                l.ids[i] = pb_pstr(b, idn->text, idn->len);
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
    const loy_yn *n = pb_mget(root, "currency");
    if (!n || !pb_want_map(b, n, "currency"))
        return;
    pb_check_keys(b, n, "currency", CURRENCY_KEYS);
    pb_need(b, n, "currency", "code");
    const loy_yn *v;
    if ((v = pb_mget(n, "code")))
        p->currency_code = pb_id(b, v, "currency.code");
    if ((v = pb_mget(n, "minor_units")) && pb_int32(b, v, "currency.minor_units", 0, 6, &p->minor_units))
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
    if (n->kind == LOY_YN_SCALAR && pb_styp(n) != ST_NULL && pb_styp(n) != ST_BOOL) {
        if (strcmp(n->text, "lifetime") == 0) {
            t->window = LOY_W_LIFETIME;
            return;
        }
        if (strcmp(n->text, "calendar_year") == 0) {
            t->window = LOY_W_CALENDAR_YEAR;
            return;
        }
        size_t digits = 0;
        while (digits < n->len && pb_is_digit(n->text[digits]))
            digits++;
        if (digits > 0 && strcmp(n->text + digits, "_months") == 0) {
            int64_t months = 0;
            if (loy_decimal_parse(n->text, digits, true, 0, &months, NULL) != LOY_DEC_OK || months < 1 ||
                months > 60) {
                pb_err(b, n, "%s: N_months takes N from 1 to 60, got %s", path, n->text);
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
        pb_err(b, n, "%s: expected N_months (N 1..60), calendar_year or lifetime, got %s%s", path, DESC(n),
            pb_hint(b, n->text, cands, 3));
        return;
    }
    pb_err(b, n, "%s: expected N_months (N 1..60), calendar_year or lifetime, got %s", path, DESC(n));
}

static void build_tiers(builder *b, const loy_yn *root)
{
    loy_tiers *t = &b->p->tiers;
    const loy_yn *n = pb_mget(root, "tiers"), *v;
    if (!n || !pb_want_map(b, n, "tiers"))
        return;
    pb_check_keys(b, n, "tiers", TIERS_KEYS);
    bool spend = true;  /* at/keep are money unless qualify_on says otherwise */
    pb_need(b, n, "tiers", "qualify_on");
    if ((v = pb_mget(n, "qualify_on"))) {
        int w = pb_word(b, v, "tiers.qualify_on", QUALIFY_ON);
        if (w >= 0) {
            t->qualify_on = (loy_qualify)w;
            spend = t->qualify_on == LOY_Q_SPEND;
        }
    }
    if ((v = pb_mget(n, "window")))
        build_window(b, v, t);
    if ((v = pb_mget(n, "exclude")))
        get_exclude(b, v, "tiers.exclude", &t->exclude_categories, &t->exclude_skus);
    int w;
    if ((v = pb_mget(n, "review")) && (w = pb_word(b, v, "tiers.review", REVIEW)) >= 0)
        t->review = (loy_review_kind)w;
    if ((v = pb_mget(n, "downgrade")) && (w = pb_word(b, v, "tiers.downgrade", DOWNGRADE)) >= 0)
        t->downgrade = (loy_downgrade)w;
    if ((v = pb_mget(n, "min_hold_months")))
        pb_int32(b, v, "tiers.min_hold_months", 0, 1200, &t->min_hold_months);

    if (!pb_need(b, n, "tiers", "levels"))
        return;
    v = pb_mget(n, "levels");
    if (!pb_want_seq(b, v, "tiers.levels"))
        return;
    if (v->count == 0) {
        pb_err(b, v, "tiers.levels: expected at least one level (the first is the entry tier)");
        return;
    }
    t->levels = pb_palloc(b, v->count, sizeof *t->levels);
    const char **ids = pb_talloc(b, v->count, sizeof *ids);
    const loy_yn **id_nodes = pb_talloc(b, v->count, sizeof *id_nodes);
    if (!t->levels || !ids || !id_nodes)
        return;
    t->count = v->count;
    bool ids_ok = true, prev_ok = true;
    int64_t prev_at = 0;
    const loy_yn *prev_node = NULL;
    for (uint32_t i = 0; i < v->count; i++) {
        const loy_yn *lv = v->kids[i];
        const char *lp = pb_idx(b, "tiers.levels", i);
        loy_tier *tier = &t->levels[i];
        if (!pb_want_map(b, lv, lp)) {
            ids_ok = prev_ok = false;
            continue;
        }
        pb_check_keys(b, lv, lp, LEVEL_KEYS);
        const loy_yn *x;
        if (!pb_need(b, lv, lp, "id")) {
            ids_ok = false;
        } else {
            id_nodes[i] = pb_mget(lv, "id");
            ids[i] = tier->id = pb_id(b, id_nodes[i], pb_sub(b, lp, "id"));
            ids_ok &= tier->id != NULL;
        }
        if ((x = pb_mget(lv, "name")))
            tier->name = pb_text(b, x, pb_sub(b, lp, "name"));
        const loy_yn *at = pb_mget(lv, "at"), *keep = pb_mget(lv, "keep");
        if (i == 0) {
            if (at)
                pb_err(b, pb_mkey(lv, "at"), "%s: the entry tier (the first level) takes no 'at': every member starts there", lp);
            if (keep)
                pb_err(b, pb_mkey(lv, "keep"), "%s: the entry tier (the first level) takes no 'keep'", lp);
            prev_ok = true;
            prev_at = 0;
            continue;
        }
        if (!at) {
            pb_need(b, lv, lp, "at");
            prev_ok = false;
            continue;
        }
        const char *atp = pb_sub(b, lp, "at");
        bool at_ok = spend ? pb_money(b, at, atp, false, &tier->at) : pb_int(b, at, atp, 0, INT64_MAX, &tier->at);
        if (at_ok && prev_ok && tier->at <= prev_at) {
            if (!prev_node)
                pb_err(b, at, "%s: must be above 0 (the entry tier's), got %s", atp, at->text);
            else
                pb_err(b, at, "%s: must be above the previous level's at (%s), got %s", atp, prev_node->text, at->text);
        }
        tier->keep = tier->at;
        if (keep) {
            const char *kp = pb_sub(b, lp, "keep");
            int64_t k;
            bool keep_ok = spend ? pb_money(b, keep, kp, false, &k) : pb_int(b, keep, kp, 0, INT64_MAX, &k);
            if (keep_ok && at_ok && k > tier->at)
                pb_err(b, keep, "%s: must not exceed at (%s), got %s", kp, at->text, keep->text);
            else if (keep_ok)
                tier->keep = k;
        }
        prev_ok = at_ok;
        prev_at = tier->at;
        prev_node = at;
    }
    pb_report_dups(b, ids, id_nodes, v->count, "tiers.levels", "tier id");
    b->tiers_ok = ids_ok;
    b->tier_ids = ids;
    b->tier_n = v->count;
    b->tier_sorted = pb_sort_ids(b, ids, v->count);
}

/* ---------------------------------------------------------- growth (§3.2) */

static const char *const GROWTH_KEYS[] = {"per_spend", "per_order", "actions", NULL};
static const char *const PER_SPEND_KEYS[] = {"amount", "growth", NULL};

static void build_growth(builder *b, const loy_yn *root)
{
    loy_growth *g = &b->p->growth;
    const loy_yn *n = pb_mget(root, "growth"), *v;
    if (!n) {
        if (b->p->tiers.qualify_on == LOY_Q_GROWTH)
            pb_err(b, pb_mget(root, "tiers"), "tiers: qualify_on is growth, but the policy has no 'growth' section");
        return;
    }
    if (!pb_want_map(b, n, "growth"))
        return;
    g->present = true;
    pb_check_keys(b, n, "growth", GROWTH_KEYS);
    if ((v = pb_mget(n, "per_spend")) && pb_want_map(b, v, "growth.per_spend")) {
        pb_check_keys(b, v, "growth.per_spend", PER_SPEND_KEYS);
        bool ok = pb_need_all(b, v, "growth.per_spend", KEYS("amount", "growth"));
        const loy_yn *a = pb_mget(v, "amount"), *gr = pb_mget(v, "growth");
        if (a && !pb_money(b, a, "growth.per_spend.amount", true, &g->per_spend_amount))
            ok = false;
        if (gr && !pb_int(b, gr, "growth.per_spend.growth", 0, INT64_MAX, &g->per_spend_growth))
            ok = false;
        g->has_per_spend = ok;
    }
    if ((v = pb_mget(n, "per_order")))
        pb_int(b, v, "growth.per_order", 0, INT64_MAX, &g->per_order);
    if ((v = pb_mget(n, "actions")) && pb_want_map(b, v, "growth.actions")) {
        pb_check_keys(b, v, "growth.actions", NULL);
        g->actions = pb_palloc(b, v->count ? v->count : 1, sizeof *g->actions);
        if (!g->actions)
            return;
        for (uint32_t i = 0; i < v->count; i++) {
            const loy_yn *k = loy_yn_key(v, i);
            if (k->merge_key)
                continue;
            const char *kind = pb_id(b, k, "growth.actions");
            int64_t amount;
            if (pb_int(b, loy_yn_val(v, i), pb_sub(b, "growth.actions", k->kind == LOY_YN_SCALAR ? k->text : "?"), 0,
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
    if (!pb_fix(b, n, path, "a factor", out))
        return false;
    if (*out <= 0) {
        pb_err(b, n, "%s: a factor must be greater than 0, got %s", path, n->text);
        return false;
    }
    return true;
}

static void build_multipliers(builder *b, const loy_yn *n, loy_points *pt)
{
    const char *path = "points.earn.multipliers";
    if (!pb_want_seq(b, n, path))
        return;
    pt->multipliers = pb_palloc(b, n->count ? n->count : 1, sizeof *pt->multipliers);
    if (!pt->multipliers)
        return;
    id_list ids = collect_ids(b, n, path, false);
    for (uint32_t i = 0; i < n->count; i++) {
        const loy_yn *m = n->kids[i];
        const char *mp = pb_idx(b, path, i);
        loy_multiplier *mu = &pt->multipliers[pt->multiplier_count];
        if (!pb_want_map(b, m, mp))
            continue;
        pb_check_keys(b, m, mp, MULTIPLIER_KEYS);
        bool ok = pb_need(b, m, mp, "id");
        const loy_yn *v;
        if ((v = pb_mget(m, "id")) && !(mu->id = pb_id(b, v, pb_sub(b, mp, "id"))))
            ok = false;
        mu->when = pb_when(b, m, mp, true, &ok);
        const loy_yn *f = pb_mget(m, "factor"), *bt = pb_mget(m, "by_tier");
        if (f && bt) {
            pb_err(b, m, "%s: give exactly one of 'factor' and 'by_tier', not both", mp);
            ok = false;
        } else if (!f && !bt) {
            pb_err(b, m, "%s: missing 'factor' or 'by_tier' (give exactly one)", mp);
            ok = false;
        } else if (f) {
            ok &= get_factor(b, f, pb_sub(b, mp, "factor"), &mu->factor);
        } else if (pb_want_map(b, bt, pb_sub(b, mp, "by_tier"))) {
            const char *bp = pb_sub(b, mp, "by_tier");
            pb_check_keys(b, bt, bp, NULL);
            mu->by_tier = true;
            mu->tier_factor = pb_palloc(b, b->tier_n ? b->tier_n : 1, sizeof *mu->tier_factor);
            if (!mu->tier_factor)
                return;
            for (uint32_t k = 0; k < bt->count; k++) {
                const loy_yn *key = loy_yn_key(bt, k);
                if (key->merge_key)
                    continue;
                int t = pb_tier_ref(b, key, bp);
                loy_fix fx;
                if (get_factor(b, loy_yn_val(bt, k), pb_sub(b, bp, key->kind == LOY_YN_SCALAR ? key->text : "?"), &fx) &&
                    t >= 0)
                    mu->tier_factor[t] = fx;
            }
        } else {
            ok = false;
        }
        if (ok)
            pt->multiplier_count++;
    }
    pb_report_dups(b, ids.ids, ids.nodes, ids.n, path, "multiplier id");
}

static void build_earn(builder *b, const loy_yn *n, loy_points *pt)
{
    const char *path = "points.earn";
    if (!pb_want_map(b, n, path))
        return;
    pb_check_keys(b, n, path, EARN_KEYS);
    const loy_yn *v;
    int w;
    bool ok = pb_need(b, n, path, "rate");
    if ((v = pb_mget(n, "rate"))) {
        if (pb_want_map(b, v, "points.earn.rate")) {
            pb_check_keys(b, v, "points.earn.rate", RATE_KEYS);
            ok &= pb_need_all(b, v, "points.earn.rate", KEYS("amount", "points"));
            const loy_yn *a = pb_mget(v, "amount"), *p = pb_mget(v, "points");
            if (a && !pb_money(b, a, "points.earn.rate.amount", true, &pt->rate_amount))
                ok = false;
            if (p && !pb_int(b, p, "points.earn.rate.points", 0, INT64_MAX, &pt->rate_points))
                ok = false;
        } else {
            ok = false;
        }
    }
    if ((v = pb_mget(n, "rounding")) && (w = pb_word(b, v, "points.earn.rounding", ROUNDING)) >= 0)
        pt->rounding = (loy_round)w;
    if ((v = pb_mget(n, "rounding_scope")) && (w = pb_word(b, v, "points.earn.rounding_scope", ROUNDING_SCOPE)) >= 0)
        pt->round_per_line = w == 1;
    if ((v = pb_mget(n, "exclude")))
        get_exclude(b, v, "points.earn.exclude", &pt->exclude_categories, &pt->exclude_skus);
    if ((v = pb_mget(n, "min_order")))
        pb_money(b, v, "points.earn.min_order", false, &pt->min_order);
    if ((v = pb_mget(n, "multipliers")))
        build_multipliers(b, v, pt);
    if ((v = pb_mget(n, "stacking")) && (w = pb_word(b, v, "points.earn.stacking", STACKING)) >= 0)
        pt->stacking = (loy_stacking)w;
    if ((v = pb_mget(n, "cap")) && pb_want_map(b, v, "points.earn.cap")) {
        pb_check_keys(b, v, "points.earn.cap", CAP_KEYS);
        const loy_yn *c;
        if ((c = pb_mget(v, "per_order")))
            pb_int(b, c, "points.earn.cap.per_order", 0, INT64_MAX, &pt->cap_per_order);
        if ((c = pb_mget(v, "per_day")))
            pb_int(b, c, "points.earn.cap.per_day", 0, INT64_MAX, &pt->cap_per_day);
    }
    pt->has_earn = ok;
}

static void build_actions(builder *b, const loy_yn *n, loy_points *pt)
{
    const char *path = "points.actions";
    if (!pb_want_map(b, n, path))
        return;
    pb_check_keys(b, n, path, NULL);
    pt->actions = pb_palloc(b, n->count ? n->count : 1, sizeof *pt->actions);
    if (!pt->actions)
        return;
    for (uint32_t i = 0; i < n->count; i++) {
        const loy_yn *k = loy_yn_key(n, i), *v = loy_yn_val(n, i);
        if (k->merge_key)
            continue;
        loy_action *a = &pt->actions[pt->action_count];
        a->kind = pb_id(b, k, path);
        const char *ap = pb_sub(b, path, k->kind == LOY_YN_SCALAR ? k->text : "?");
        if (!pb_want_map(b, v, ap))
            continue;
        pb_check_keys(b, v, ap, ACTION_KEYS);
        bool ok = a->kind != NULL;
        ok &= pb_need(b, v, ap, "points");
        const loy_yn *x;
        if ((x = pb_mget(v, "points")) && !pb_int(b, x, pb_sub(b, ap, "points"), 0, INT64_MAX, &a->points))
            ok = false;
        if ((x = pb_mget(v, "limit")) && !get_limit(b, x, pb_sub(b, ap, "limit"), &a->limit))
            ok = false;
        if (ok)
            pt->action_count++;
    }
}

static void build_expiry(builder *b, const loy_yn *n, loy_points *pt)
{
    const char *path = "points.expiry";
    if (n->kind == LOY_YN_SCALAR && (pb_styp(n) == ST_NULL || strcmp(n->text, "none") == 0)) {
        pt->expiry = LOY_EXPIRY_NONE;
        return;
    }
    if (n->kind != LOY_YN_MAP) {
        pb_err(b, n, "%s: expected {after_months: N}, {end_of_year_plus: K} or none, got %s", path, DESC(n));
        return;
    }
    pb_check_keys(b, n, path, EXPIRY_KEYS);
    const loy_yn *am = pb_mget(n, "after_months"), *ey = pb_mget(n, "end_of_year_plus");
    if (am && ey) {
        pb_err(b, n, "%s: give exactly one of 'after_months' and 'end_of_year_plus', not both", path);
    } else if (!am && !ey) {
        pb_err(b, n, "%s: missing 'after_months' or 'end_of_year_plus' (or write expiry: none)", path);
    } else if (am) {
        if (pb_int32(b, am, "points.expiry.after_months", 0, 1200, &pt->expiry_n))
            pt->expiry = LOY_EXPIRY_AFTER_MONTHS;
    } else if (pb_int32(b, ey, "points.expiry.end_of_year_plus", 0, 100, &pt->expiry_n)) {
        pt->expiry = LOY_EXPIRY_END_OF_YEAR_PLUS;
    }
}

static void build_redeem(builder *b, const loy_yn *n, loy_points *pt)
{
    const char *path = "points.redeem";
    if (!pb_want_map(b, n, path))
        return;
    pb_check_keys(b, n, path, REDEEM_KEYS);
    bool ok = pb_need(b, n, path, "rate");
    const loy_yn *v;
    if ((v = pb_mget(n, "rate"))) {
        if (pb_want_map(b, v, "points.redeem.rate")) {
            pb_check_keys(b, v, "points.redeem.rate", REDEEM_RATE_KEYS);
            ok &= pb_need_all(b, v, "points.redeem.rate", KEYS("points", "amount"));
            const loy_yn *p = pb_mget(v, "points"), *a = pb_mget(v, "amount");
            if (p && !pb_int(b, p, "points.redeem.rate.points", 1, INT64_MAX, &pt->redeem_points))
                ok = false;
            if (a && !pb_money(b, a, "points.redeem.rate.amount", true, &pt->redeem_amount))
                ok = false;
        } else {
            ok = false;
        }
    }
    if ((v = pb_mget(n, "min_points")))
        pb_int(b, v, "points.redeem.min_points", 0, INT64_MAX, &pt->redeem_min_points);
    if ((v = pb_mget(n, "step")))
        pb_int(b, v, "points.redeem.step", 1, INT64_MAX, &pt->redeem_step);
    if ((v = pb_mget(n, "max_order_share")) && pb_fix(b, v, "points.redeem.max_order_share", "a share", &pt->redeem_max_share) &&
        pt->redeem_max_share > LOY_FIX_ONE) {
        pb_err(b, v, "points.redeem.max_order_share: must be at most 1, got %s", v->text);
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
    const loy_yn *n = pb_mget(root, "points"), *v;
    if (!n || !pb_want_map(b, n, "points"))
        return;
    pb_check_keys(b, n, "points", POINTS_KEYS);
    if ((v = pb_mget(n, "earn")))
        build_earn(b, v, pt);
    if ((v = pb_mget(n, "actions")))
        build_actions(b, v, pt);
    if ((v = pb_mget(n, "pending_days")))
        pb_int32(b, v, "points.pending_days", 0, 3650, &pt->pending_days);
    if ((v = pb_mget(n, "expiry")))
        build_expiry(b, v, pt);
    if ((v = pb_mget(n, "redeem")))
        build_redeem(b, v, pt);
    if ((v = pb_mget(n, "negative_balance")))
        pb_bool(b, v, "points.negative_balance", &pt->negative_balance);
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
    if (!pb_want_map(b, n, path))
        return;
    pb_check_keys(b, n, path, UPGRADE_KEYS);
    const loy_yn *v;
    int w;
    if ((v = pb_mget(n, "once")) && (w = pb_word(b, v, "gifts.upgrade.once", UPGRADE_ONCE)) >= 0)
        g->upgrade_every_time = w == 1;
    if ((v = pb_mget(n, "skipped")) && (w = pb_word(b, v, "gifts.upgrade.skipped", SKIPPED)) >= 0)
        g->upgrade_highest = w == 1;
    if (!pb_need(b, n, path, "by_tier"))
        return;
    g->upgrade = by_tier_rewards(b, pb_mget(n, "by_tier"), "gifts.upgrade.by_tier", &g->upgrade_count);
    g->has_upgrade = g->upgrade != NULL;
}

static void build_birthday_window(builder *b, const loy_yn *n, loy_gifts *g)
{
    const char *path = "gifts.birthday.window";
    if (n->kind == LOY_YN_MAP) {
        pb_check_keys(b, n, path, AROUND_KEYS);
        const loy_yn *x;
        bool ok = true;
        if ((x = pb_mget(n, "days_before")))
            ok &= pb_int32(b, x, "gifts.birthday.window.days_before", 0, 364, &g->bday_before);
        if ((x = pb_mget(n, "days_after")))
            ok &= pb_int32(b, x, "gifts.birthday.window.days_after", 0, 364, &g->bday_after);
        if (ok && g->bday_before + g->bday_after > 364)
            pb_err(b, n, "%s: days_before + days_after must be at most 364, got %d", path,
                (int)(g->bday_before + g->bday_after));
        g->bday_window = LOY_BW_AROUND;
        return;
    }
    if (n->kind == LOY_YN_SCALAR && pb_styp(n) == ST_STR) {
        for (int i = 0; BDAY_WINDOW_WORDS[i]; i++)
            if (strcmp(n->text, BDAY_WINDOW_WORDS[i]) == 0) {
                g->bday_window = (loy_bday_window)i;
                return;
            }
        pb_err(b, n, "%s: expected day, month or {days_before: N, days_after: N}, got %s%s", path, DESC(n),
            pb_hint(b, n->text, BDAY_WINDOW_WORDS, 2));
        return;
    }
    pb_err(b, n, "%s: expected day, month or {days_before: N, days_after: N}, got %s", path, DESC(n));
}

static void build_birthday(builder *b, const loy_yn *n, loy_gifts *g)
{
    const char *path = "gifts.birthday";
    if (!pb_want_map(b, n, path))
        return;
    pb_check_keys(b, n, path, BIRTHDAY_KEYS);
    const loy_yn *v;
    int w;
    if ((v = pb_mget(n, "window")))
        build_birthday_window(b, v, g);
    if ((v = pb_mget(n, "min_member_days")))
        pb_int32(b, v, "gifts.birthday.min_member_days", 0, INT32_MAX, &g->bday_min_member_days);
    if ((v = pb_mget(n, "feb29")) && (w = pb_word(b, v, "gifts.birthday.feb29", FEB29)) >= 0)
        g->feb29 = (loy_feb29)w;
    if (!pb_need(b, n, path, "by_tier"))
        return;
    g->birthday = by_tier_rewards(b, pb_mget(n, "by_tier"), "gifts.birthday.by_tier", &g->birthday_count);
    g->has_birthday = g->birthday != NULL;
}

static void build_surprise(builder *b, const loy_yn *n, loy_gifts *g)
{
    const char *path = "gifts.surprise";
    if (!pb_want_seq(b, n, path))
        return;
    g->surprise = pb_palloc(b, n->count ? n->count : 1, sizeof *g->surprise);
    if (!g->surprise)
        return;
    id_list ids = collect_ids(b, n, path, false);
    for (uint32_t i = 0; i < n->count; i++) {
        const loy_yn *e = n->kids[i];
        const char *sp = pb_idx(b, path, i);
        loy_surprise *s = &g->surprise[g->surprise_count];
        if (!pb_want_map(b, e, sp))
            continue;
        pb_check_keys(b, e, sp, SURPRISE_KEYS);
        bool ok = pb_need_all(b, e, sp, KEYS("id", "reward"));
        const loy_yn *v;
        if ((v = pb_mget(e, "id")) && !(s->id = pb_id(b, v, pb_sub(b, sp, "id"))))
            ok = false;
        s->when = pb_when(b, e, sp, false, &ok);
        s->sample = 10000;
        if ((v = pb_mget(e, "sample_percent"))) {
            int64_t pct;
            const char *pp = pb_sub(b, sp, "sample_percent");
            if (!pb_decimal(b, v, pp, 2, "a percentage 0..100 (at most 2 decimals)", "a percentage", &pct)) {
                ok = false;
            } else if (pct > 10000) {
                pb_err(b, v, "%s: must be 0..100, got %s", pp, v->text);
                ok = false;
            } else {
                s->sample = (int32_t)pct;
            }
        }
        if ((v = pb_mget(e, "reward"))) {
            const loy_reward *r = get_reward(b, v, pb_sub(b, sp, "reward"));
            if (r)
                s->reward = *r;
            else
                ok = false;
        }
        int w;
        if ((v = pb_mget(e, "once")) && (w = pb_word(b, v, pb_sub(b, sp, "once"), SURPRISE_ONCE)) >= 0)
            s->per_year = w == 1;
        if (ok)
            g->surprise_count++;
    }
    pb_report_dups(b, ids.ids, ids.nodes, ids.n, path, "surprise gift id");
}

static void build_spend(builder *b, const loy_yn *n, loy_gifts *g)
{
    const char *path = "gifts.spend";
    if (!pb_want_seq(b, n, path))
        return;
    g->spend = pb_palloc(b, n->count ? n->count : 1, sizeof *g->spend);
    if (!g->spend)
        return;
    id_list ids = collect_ids(b, n, path, false);
    for (uint32_t i = 0; i < n->count; i++) {
        const loy_yn *e = n->kids[i];
        const char *sp = pb_idx(b, path, i);
        loy_spend_gift *s = &g->spend[g->spend_count];
        if (!pb_want_map(b, e, sp))
            continue;
        pb_check_keys(b, e, sp, SPEND_KEYS);
        bool ok = pb_need_all(b, e, sp, KEYS("id", "period", "at_least", "reward"));
        const loy_yn *v;
        int w;
        if ((v = pb_mget(e, "id")) && !(s->id = pb_id(b, v, pb_sub(b, sp, "id"))))
            ok = false;
        if ((v = pb_mget(e, "period"))) {
            if ((w = pb_word(b, v, pb_sub(b, sp, "period"), SPEND_PERIOD)) >= 0)
                s->period = (loy_spend_period)w;
            else
                ok = false;
        }
        if ((v = pb_mget(e, "at_least")) && !pb_money(b, v, pb_sub(b, sp, "at_least"), false, &s->at_least))
            ok = false;
        if ((v = pb_mget(e, "reward"))) {
            const loy_reward *r = get_reward(b, v, pb_sub(b, sp, "reward"));
            if (r)
                s->reward = *r;
            else
                ok = false;
        }
        if (ok)
            g->spend_count++;
    }
    pb_report_dups(b, ids.ids, ids.nodes, ids.n, path, "spend gift id");
}

static void build_gifts(builder *b, const loy_yn *root)
{
    loy_gifts *g = &b->p->gifts;
    const loy_yn *n = pb_mget(root, "gifts"), *v;
    if (!n || !pb_want_map(b, n, "gifts"))
        return;
    pb_check_keys(b, n, "gifts", GIFTS_KEYS);
    if ((v = pb_mget(n, "upgrade")))
        build_upgrade(b, v, g);
    if ((v = pb_mget(n, "birthday")))
        build_birthday(b, v, g);
    if ((v = pb_mget(n, "surprise")))
        build_surprise(b, v, g);
    if ((v = pb_mget(n, "spend")))
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
        pb_err(b, n, "%s: expected a number or text, got %s", path, DESC(n));
        return false;
    }
    stype t = pb_styp(n);
    if (t == ST_NULL || t == ST_BOOL || t == ST_DATE) {
        pb_err(b, n, "%s: expected a number or text, got %s (quote it to mean text)", path, DESC(n));
        return false;
    }
    int base = pb_base(n);
    if (base) {
        /* 9:30 is 570 in YAML 1.1, not the text "9:30" (§2) */
        pb_err(b, n, "%s: expected a number in decimal digits or text, got %s (a base-%d number in YAML 1.1; quote it to mean text)",
            path, n->text, base);
        return false;
    }
    if (t == ST_INT || t == ST_FLOAT) {
        loy_fix v;
        if (!pb_fix(b, n, path, "a number", &v))
            return false;
        char buf[32];
        size_t len = loy_decimal_format(v, 4, buf, sizeof buf);
        out->kind = LOY_VAL_NUMBER;
        out->text = pb_pstr(b, buf, len);
        return out->text != NULL;
    }
    out->kind = LOY_VAL_STRING;
    out->text = pb_text_of(b, n, path, true);
    return out->text != NULL;
}

static bool get_value(builder *b, const loy_yn *n, const char *path, loy_value *out)
{
    if (n->kind != LOY_YN_MAP)
        return value_scalar(b, n, path, out);
    pb_check_keys(b, n, path, VALUE_KEYS);
    if (!pb_need(b, n, path, "by_tier"))
        return false;
    const loy_yn *bt = pb_mget(n, "by_tier");
    const char *bp = pb_sub(b, path, "by_tier");
    if (!pb_want_map(b, bt, bp))
        return false;
    pb_check_keys(b, bt, bp, NULL);
    out->kind = LOY_VAL_BY_TIER;
    out->by_tier = pb_palloc(b, b->tier_n ? b->tier_n : 1, sizeof *out->by_tier);
    if (!out->by_tier)
        return false;
    bool ok = true;
    for (uint32_t i = 0; i < bt->count; i++) {
        const loy_yn *k = loy_yn_key(bt, i);
        if (k->merge_key)
            continue;
        int t = pb_tier_ref(b, k, bp);
        loy_value v = {LOY_VAL_NONE, NULL, NULL};
        if (!value_scalar(b, loy_yn_val(bt, i), pb_sub(b, bp, k->kind == LOY_YN_SCALAR ? k->text : "?"), &v))
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
    const loy_yn *n = pb_mget(root, "benefits");
    if (!n || !pb_want_seq(b, n, "benefits"))
        return;
    p->benefits = pb_palloc(b, n->count ? n->count : 1, sizeof *p->benefits);
    if (!p->benefits)
        return;
    id_list ids = collect_ids(b, n, "benefits", false);
    for (uint32_t i = 0; i < n->count; i++) {
        const loy_yn *e = n->kids[i];
        const char *bp = pb_idx(b, "benefits", i);
        loy_benefit *bf = &p->benefits[p->benefit_count];
        if (!pb_want_map(b, e, bp))
            continue;
        pb_check_keys(b, e, bp, BENEFIT_KEYS);
        bool ok = pb_need_all(b, e, bp, KEYS("id", "kind"));
        const loy_yn *v;
        if ((v = pb_mget(e, "id")) && !(bf->id = pb_id(b, v, pb_sub(b, bp, "id"))))
            ok = false;
        if ((v = pb_mget(e, "name")))
            bf->name = pb_text(b, v, pb_sub(b, bp, "name"));
        if ((v = pb_mget(e, "kind"))) {
            int w = pb_word(b, v, pb_sub(b, bp, "kind"), BENEFIT_KINDS);
            if (w >= 0)
                bf->kind = pb_pstr(b, BENEFIT_KINDS[w], strlen(BENEFIT_KINDS[w]));
            else
                ok = false;
        }
        bf->when = pb_when(b, e, bp, false, &ok);
        if ((v = pb_mget(e, "limit")) && !get_limit(b, v, pb_sub(b, bp, "limit"), &bf->limit))
            ok = false;
        if ((v = pb_mget(e, "value")) && !get_value(b, v, pb_sub(b, bp, "value"), &bf->value))
            ok = false;
        if (ok)
            p->benefit_count++;
    }
    pb_report_dups(b, ids.ids, ids.nodes, ids.n, "benefits", "benefit id");
}

/* ------------------------------------------------------------- paid (§7) */

static const char *const PAID_KEYS[] = {"plans", NULL};
static const char *const PLAN_KEYS[] = {"id", "fee", "months", "guarantee", NULL};

static void build_paid(builder *b, const loy_yn *root)
{
    loy_policy *p = b->p;
    const loy_yn *n = pb_mget(root, "paid"), *v;
    if (!n || !pb_want_map(b, n, "paid"))
        return;
    pb_check_keys(b, n, "paid", PAID_KEYS);
    if (!pb_need(b, n, "paid", "plans"))
        return;
    v = pb_mget(n, "plans");
    if (!pb_want_seq(b, v, "paid.plans"))
        return;
    /* An empty list loads (§2 names no such error; `levels` and `lifecycle`
     * alone ask for at least one): no plan can be joined or imported, as
     * without `paid`. */
    p->plans = pb_palloc(b, v->count, sizeof *p->plans);
    if (!p->plans)
        return;
    id_list ids = collect_ids(b, v, "paid.plans", false);
    b->plan_ids = ids.ids;
    b->plan_n = ids.n;
    b->plan_sorted = pb_sort_ids(b, ids.ids, ids.n);
    for (uint32_t i = 0; i < v->count; i++) {
        const loy_yn *e = v->kids[i];
        const char *pp = pb_idx(b, "paid.plans", i);
        loy_plan *pl = &p->plans[p->plan_count];
        if (!pb_want_map(b, e, pp))
            continue;
        pb_check_keys(b, e, pp, PLAN_KEYS);
        bool ok = pb_need_all(b, e, pp, KEYS("id", "fee", "months"));
        const loy_yn *x;
        if ((x = pb_mget(e, "id")) && !(pl->id = pb_id(b, x, pb_sub(b, pp, "id"))))
            ok = false;
        if ((x = pb_mget(e, "fee")) && !pb_money(b, x, pb_sub(b, pp, "fee"), false, &pl->fee))
            ok = false;
        if ((x = pb_mget(e, "months")) && !pb_int32(b, x, pb_sub(b, pp, "months"), 1, 1200, &pl->months))
            ok = false;
        if ((x = pb_mget(e, "guarantee")) && !pb_bool(b, x, pb_sub(b, pp, "guarantee"), &pl->guarantee))
            ok = false;
        if (ok)
            p->plan_count++;
    }
    pb_report_dups(b, ids.ids, ids.nodes, ids.n, "paid.plans", "plan id");
}

/* -------------------------------------------------------- lifecycle (§8) */

static const char *const STAGE_KEYS[] = {"id", "when", NULL};

/* Pass 1: the stage ids, before any condition refers to them. */
static void lifecycle_ids(builder *b, const loy_yn *root)
{
    const loy_yn *n = pb_mget(root, "lifecycle");
    b->stages_ok = !n;  /* no lifecycle: no stage exists, references are errors */
    if (!n || n->kind != LOY_YN_SEQ)
        return;
    id_list ids = collect_ids(b, n, "lifecycle", false);
    b->stage_ids = ids.ids;
    b->stage_n = ids.n;
    b->stage_sorted = pb_sort_ids(b, ids.ids, ids.n);
    b->stages_ok = ids.ok;
}

/* Pass 2: the stages with their conditions. */
static void build_lifecycle(builder *b, const loy_yn *root)
{
    loy_policy *p = b->p;
    const loy_yn *n = pb_mget(root, "lifecycle");
    if (!n || !pb_want_seq(b, n, "lifecycle"))
        return;
    if (n->count == 0) {
        pb_err(b, n, "lifecycle: expected at least one stage (the last one without 'when')");
        return;
    }
    p->stages = pb_palloc(b, n->count, sizeof *p->stages);
    if (!p->stages)
        return;
    p->has_lifecycle = true;
    id_list ids = collect_ids(b, n, "lifecycle", false);
    for (uint32_t i = 0; i < n->count; i++) {
        const loy_yn *e = n->kids[i];
        const char *sp = pb_idx(b, "lifecycle", i);
        loy_stage *st = &p->stages[p->stage_count];
        if (!pb_want_map(b, e, sp))
            continue;
        pb_check_keys(b, e, sp, STAGE_KEYS);
        bool ok = pb_need(b, e, sp, "id");
        const loy_yn *v;
        if ((v = pb_mget(e, "id")) && !(st->id = pb_id(b, v, pb_sub(b, sp, "id"))))
            ok = false;
        bool last = i + 1 == n->count;
        if (last && pb_mget(e, "when")) {
            pb_err(b, pb_mkey(e, "when"), "%s: the last stage takes no 'when': it holds every member no other stage takes",
                sp);
            ok = false;
        } else if (!last && !pb_mget(e, "when")) {
            pb_err(b, e, "%s: missing required key 'when' (only the last stage goes without)", sp);
            ok = false;
        } else if (!last) {
            st->when = pb_when(b, e, sp, false, &ok);
        }
        if (ok)
            p->stage_count++;
    }
    pb_report_dups(b, ids.ids, ids.nodes, ids.n, "lifecycle", "stage id");
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
    p->gift_ids = pb_palloc(b, n ? n : 1, sizeof *p->gift_ids);
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

    if (!root || (root->kind == LOY_YN_SCALAR && pb_styp(root) == ST_NULL)) {
        pb_err(&b, NULL, "the policy is empty: expected a mapping with loyalty_policy: 1 and tiers");
        return b.nomem ? LOY_E_NOMEM : LOY_E_POLICY;
    }
    if (root->kind != LOY_YN_MAP) {
        pb_err(&b, root, "expected a mapping at the top of the policy, got %s", DESC(root));
        return b.nomem ? LOY_E_NOMEM : LOY_E_POLICY;
    }
    pb_check_keys(&b, root, "", TOP_KEYS);
    const loy_yn *v;
    if (pb_need(&b, root, "", "loyalty_policy")) {
        int64_t version;
        v = pb_mget(root, "loyalty_policy");
        if (pb_int(&b, v, "loyalty_policy", 0, INT64_MAX, &version) && version != 1)
            pb_err(&b, v, "loyalty_policy: unsupported format version %s; this library reads version 1", v->text);
    }
    pb_need(&b, root, "", "tiers");
    if ((v = pb_mget(root, "program")))
        p->program = pb_text(&b, v, "program");
    build_currency(&b, root);

    /* What conditions refer to, first. */
    build_tiers(&b, root);
    build_paid(&b, root);
    lifecycle_ids(&b, root);
    const loy_yn *gifts = pb_mget(root, "gifts");
    b.has_birthday = gifts && gifts->kind == LOY_YN_MAP && pb_mget(gifts, "birthday") != NULL;

    build_growth(&b, root);
    build_points(&b, root);
    build_gifts(&b, root);
    build_benefits(&b, root);
    build_lifecycle(&b, root);

    if (!b.nomem && d->count == 0) {
        derive_months_kept(&b);
        derive_gift_ids(&b);
        if (!b.nomem && (!loy_policy_intern(p) || !loy_policy_state_ids(p)))
            b.nomem = true;
    }
    if (b.nomem)
        return LOY_E_NOMEM;
    return d->count ? LOY_E_POLICY : LOY_OK;
}
