/*
 * Gifts (POLICY.md §5): upgrade gifts with every upward tier change (step 4)
 * and, in step 5, birthday, surprise and spend gifts, each seeing the state
 * the ones before it left.
 */
#include "engine.h"

#include <stdio.h>
#include <xxhash.h>

/* ------------------------------------------------------------------ rewards */

/* An effect whose fields the policy fixed at load (lib/policy/gifts.c):
 * one fresh map over them, appended to the effects. */
static inline __attribute__((always_inline)) void push_fixed_effect(loy_ctx *c,
                                                                   const loy_node *fixed)
{
    loy_node *e = rn_block(c->r, 1);
    if (!e)
        return;
    rn_init_over(e, NULL, fixed);
    if (c->effects && c->effects != &loy_nomem_node)
        rn_link(c->effects, e);
}

/* The gift effect of one kind, {"type": "gift", "gift": kind, "reward":
 * {...}}, with `extra` more nodes in the same block for the kind's own
 * fields: *extra points at them, or is NULL when the arena could not grow
 * (the answer is dropped then). The reward's fields are the policy's
 * (`reward`, fixed at load), under a fresh map; the caller sets the extra
 * fields with rn_init_* and closes the effect with gift_effect_done, which
 * links it. Inlined into each kind's caller, where the kind and the extra
 * count are constants. */
static inline __attribute__((always_inline)) loy_node *
gift_effect(loy_ctx *c, const char *kind, const loy_node *reward, size_t extra_count,
            loy_node **extra)
{
    loy_node *e = rn_effect_take(c->r, "gift", 2 + extra_count);
    if (!e) {
        *extra = NULL;
        return &loy_nomem_node;
    }
    rn_sib(rn_init_str(e + 2, "gift", kind));
    rn_init_over(e + 3, "reward", reward);
    *extra = e + 4;
    return e;
}

/* Closes the effect: its fields are the type, the gift, the reward, then
 * the `extra_count` (>= 1) extra ones the caller set in order (each but
 * the last with rn_sib); appends it to the effects. */
static inline __attribute__((always_inline)) void
gift_effect_done(loy_ctx *c, loy_node *e, loy_node *extra, size_t extra_count)
{
    e[3].next = extra;
    rn_effect_done(c->effects, e, extra + extra_count - 1, 3 + extra_count);
}

/* Reward points: available at once, expiring like any credit of the day,
 * reported right after their gift effect. */
static inline __attribute__((always_inline)) bool
credit_reward_points(loy_ctx *c, const loy_reward *reward, const char *source)
{
    if (!reward->has_points || reward->points <= 0)
        return true;
    loy_day expires;
    if (!loy_ctx_credit_expiry(c, &expires))
        return loy_refuse(c, LOY_E_OVERFLOW, "the expiry date of %s points passes 9999-12-31", source);
    if (!loy_lots_credit(c, reward->points, expires))
        return false;
    rn_push_points_effect(c->r, c->effects, reward->points, source, expires);
    return true;
}

/* ------------------------------------------------------------------ upgrade */

/* The ledger holds one byte per tier; bytes past what it held are 0. */
static bool upgrade_ledger_fits(loy_ctx *c)
{
    loy_member *m = c->m;
    size_t need = c->p->tiers.count, old = m->upgrade_given_cap;
    if (need <= old)
        return true;
    if (!LOY_GROW(m->alloc, m->upgrade_given, m->upgrade_given_cap, need))
        return loy_refuse(c, LOY_E_NOMEM, "out of memory");
    memset(m->upgrade_given + old, 0, m->upgrade_given_cap - old);
    return true;
}

/* The effects of an upgrade, chained here and linked to the effects once
 * at the end (a refused event's effects are dropped, so a refusal between
 * leaves nothing to undo). */
typedef struct effect_run {
    loy_node *first, *last;
    uint32_t count;
} effect_run;

static inline __attribute__((always_inline)) void run_add(effect_run *run, loy_node *e)
{
    if (run->last)
        run->last->next = e;
    else
        run->first = e;
    run->last = e;
    run->count++;
}

/* An upgrade's nodes: the tier_changed map, then per gift its map over
 * the policy's fields and its points effect (at most 5 nodes). */
enum { UPGRADE_GIFT_NODES = 6 };

static inline __attribute__((always_inline)) bool give_upgrade_gift(loy_ctx *c, int32_t level,
                                                                   effect_run *run, loy_node **nodes)
{
    const loy_gifts *g = &c->p->gifts;
    const char *tier = c->p->tiers.levels[level].id;
    const loy_reward *reward = g->upgrade[level];
    if (!reward) {
        LOY_TRACE(c, "gift:upgrade", false, "%s: the tier has no upgrade gift", tier);
        return true;
    }
    if (!g->upgrade_every_time && c->m->upgrade_given[level]) {
        LOY_TRACE(c, "gift:upgrade", false, "%s: already given once (once: lifetime)", tier);
        return true;
    }
    c->m->upgrade_given[level] = 1;
    loy_node *e = *nodes;
    if (e)
        run_add(run, rn_init_over(e, NULL, &c->p->effect_nodes.upgrade[level]));
    LOY_TRACE(c, "gift:upgrade", true, "%s: reached", tier);
    /* credit_reward_points, with the points effect chained */
    if (!reward->has_points || reward->points <= 0) {
        if (e)
            *nodes = e + 1;
        return true;
    }
    loy_day expires;
    if (!loy_ctx_credit_expiry(c, &expires))
        return loy_refuse(c, LOY_E_OVERFLOW, "the expiry date of %s points passes 9999-12-31", "upgrade");
    if (!loy_lots_credit(c, reward->points, expires))
        return false;
    if (e) {
        /* rn_push_points_effect's fields, in the upgrade's block */
        loy_node *b = e + 1;
        bool dated = expires != LOY_DAY_NONE;
        rn_init(b, LOY_NODE_MAP, NULL);
        rn_sib(rn_init_str(b + 1, "type", "points"));
        rn_sib(rn_init_int(b + 2, "delta", reward->points));
        loy_node *last = rn_init_str(b + 3, "source", "upgrade");
        if (dated) {
            rn_sib(last);
            last = rn_init_date(b + 4, "expires", expires);
        }
        rn_effect_done(NULL, b, last, dated ? 4 : 3);
        run_add(run, b);
        *nodes = last + 1;
    }
    return true;
}

/* The answer of a move up from `from` to `to` (the member is at `to`
 * already): the tier_changed effect, then the gifts, in one frame. */
bool loy_gifts_upgrade(loy_ctx *c, int32_t from, int32_t to)
{
    const loy_policy *p = c->p;
    const loy_gifts *g = &p->gifts;
    bool gifts = g->has_upgrade && to > from;
    /* `highest` gives only the new tier's gift, never a lower one instead. */
    int32_t first = g->upgrade_highest ? to : from + 1;
    effect_run run = {NULL, NULL, 0};
    const loy_node *pairs = p->effect_nodes.upgrade_pairs;
    /* every fresh node of the upgrade in one take (what the gifts do not
     * use is left over in the answer's arena) */
    loy_node *nodes = NULL;
    if (pairs) {
        /* the whole effect is the policy's (lib/policy/gifts.c) */
        size_t need = 1 + (gifts ? (size_t)(to - first + 1) * UPGRADE_GIFT_NODES : 0);
        loy_node *e = rn_block(c->r, need);
        if (e) {
            run_add(&run, rn_init_over(e, NULL, &pairs[(uint32_t)from * p->tiers.count + (uint32_t)to]));
            nodes = e + 1;
        }
    } else {
        /* {type, from} fresh; to and reason are the policy's */
        size_t need = 3 + (gifts ? (size_t)(to - first + 1) * UPGRADE_GIFT_NODES : 0);
        loy_node *e = rn_block(c->r, need);
        if (e) {
            rn_init(e, LOY_NODE_MAP, NULL);
            rn_sib(rn_init_str(e + 1, "type", "tier_changed"));
            const loy_node *end = &p->effect_nodes.upgraded_to[to];
            rn_init_str(e + 2, "from", p->tiers.levels[from].id)->next = end->first;
            rn_effect_done(NULL, e, end->last, 4);
            run_add(&run, e);
            nodes = e + 3;
        }
    }
    bool ok = true;
    if (gifts) {
        if (!upgrade_ledger_fits(c))
            return false;
        for (int32_t level = first; ok && level <= to; level++)
            ok = give_upgrade_gift(c, level, &run, &nodes);
    }
    loy_node *list = c->effects;
    if (run.count && list && list != &loy_nomem_node)
        rn_link_run(list, run.first, run.last, run.count);
    return ok;
}

/* ----------------------------------------------------------------- birthday */

static loy_day birthday_in_year_ymd(const loy_policy *p, loy_ymd b, int32_t year)
{
    if (b.m == 2 && b.d == 29 && !loy_is_leap(year)) {
        bool mar1 = p->gifts.has_birthday && p->gifts.feb29 == LOY_FEB29_MAR1;
        return mar1 ? loy_day_from_ymd(year, 3, 1) : loy_day_from_ymd(year, 2, 28);
    }
    return loy_day_from_ymd(year, b.m, b.d);
}

loy_day loy_birthday_in_year(const loy_policy *p, loy_day birthday, int32_t year)
{
    return birthday_in_year_ymd(p, loy_day_to_ymd(birthday), year);
}

bool loy_birthday_occurrence(const loy_policy *p, loy_day birthday, loy_day day, int32_t *year)
{
    const loy_gifts *g = &p->gifts;
    int32_t y = loy_day_to_ymd(day).y;
    loy_bday_window window = g->has_birthday ? g->bday_window : LOY_BW_MONTH;
    if (window == LOY_BW_MONTH || window == LOY_BW_DAY) {
        loy_day b = loy_birthday_in_year(p, birthday, y);
        bool in = window == LOY_BW_DAY ? b == day : loy_month_of(b) == loy_month_of(day);
        if (in)
            *year = y;
        return in;
    }
    /* before + after < 365 days, so the windows of two birthdays never
     * overlap; one of these three years is the only candidate. */
    for (int32_t candidate = y - 1; candidate <= y + 1; candidate++) {
        if (candidate < 0)
            continue;
        loy_day b = loy_birthday_in_year(p, birthday, candidate);
        if (day >= b - g->bday_before && day <= b + g->bday_after) {
            *year = candidate;
            return true;
        }
    }
    return false;
}

/* per-event date cache */

/* The birthday part of the cache (the dates part already holds c->day);
 * month: loy_birthday_in_year's, which moves a Feb 29. */
static inline loy_month birthday_store(loy_ctx *c, loy_day birthday, int32_t bm, int32_t bd, int32_t month)
{
    c->dc_bday_of = birthday;
    c->dc_bday_ymd.m = bm;
    c->dc_bday_ymd.d = bd;
    c->dc_bday_month = c->dc_ymd.y * 12 + (month - 1);
    c->dc_bday_valid = true;
    c->dc_bday_day_valid = false;
    return c->dc_bday_month;
}

/* A Feb 29 birthday: Mar 1 in a year without one when the policy says so.
 * Out of line: rare, and its leap-year call would cost the usual path
 * saved registers. */
static __attribute__((noinline)) loy_month birthday_store_feb29(loy_ctx *c, loy_day birthday)
{
    const loy_policy *p = c->p;
    bool mar1 = !loy_is_leap(c->dc_ymd.y) && p->gifts.has_birthday && p->gifts.feb29 == LOY_FEB29_MAR1;
    return birthday_store(c, birthday, 2, 29, mar1 ? 3 : 2);
}

static inline loy_month birthday_put(loy_ctx *c, loy_day birthday, int32_t bm, int32_t bd)
{
    if (bm == 2 && bd == 29)
        return birthday_store_feb29(c, birthday);
    return birthday_store(c, birthday, bm, bd, bm);
}

/* A birthday the member's kept month and day are not for (written other
 * than by loy_member_put_birthday), or a cache without c->day yet. Only
 * the month and day are worked out, not the birthday's year. */
static __attribute__((noinline)) loy_month birthday_fill_slow(loy_ctx *c, loy_day birthday)
{
    loy_ctx_dates(c);
    if (c->dc_bday_valid && c->dc_bday_of == birthday)
        return c->dc_bday_month;
    const loy_member *m = c->m;
    if (m->birthday_md_key == ((uint32_t)birthday ^ 0x80000000u))
        return birthday_put(c, birthday, m->birthday_m, m->birthday_d);
    /* month and day in scalars, not a loy_ymd: kept in registers */
    int32_t bm, bd;
    if (!loy_ns_month_day(birthday, &bm, &bd)) {
        loy_ymd b = loy_day_to_ymd(birthday);
        bm = b.m;
        bd = b.d;
    }
    return birthday_put(c, birthday, bm, bd);
}

/* The usual call: the dates cached, the member's birthday with its month
 * and day kept (lib/member.h): no conversion, no saved registers. */
loy_month loy_ctx_birthday_fill(loy_ctx *c, loy_day birthday)
{
    const loy_member *m = c->m;
    if (!loy_ctx_dates_ready(c) || m->birthday_md_key != ((uint32_t)birthday ^ 0x80000000u))
        return birthday_fill_slow(c, birthday);
    if (c->dc_bday_valid && c->dc_bday_of == birthday)
        return c->dc_bday_month;
    return birthday_put(c, birthday, m->birthday_m, m->birthday_d);
}

loy_day loy_ctx_birthday_this_year(loy_ctx *c, loy_day birthday)
{
    loy_ctx_birthday_month(c, birthday);
    if (!c->dc_bday_day_valid) {
        c->dc_bday_this_year = birthday_in_year_ymd(c->p, c->dc_bday_ymd, c->dc_ymd.y);
        c->dc_bday_day_valid = true;
    }
    return c->dc_bday_this_year;
}

/* loy_birthday_occurrence for the event's day, from the cache for the
 * windows that only look at this year's birthday. */
static bool birthday_occurrence_today(loy_ctx *c, loy_day birthday, int32_t *year)
{
    const loy_gifts *g = &c->p->gifts;
    loy_bday_window window = g->has_birthday ? g->bday_window : LOY_BW_MONTH;
    if (window != LOY_BW_MONTH && window != LOY_BW_DAY)
        return loy_birthday_occurrence(c->p, birthday, c->day, year);
    bool in = window == LOY_BW_DAY ? loy_ctx_birthday_this_year(c, birthday) == c->day
                                   : loy_ctx_birthday_month(c, birthday) == loy_ctx_month(c);
    if (in)
        *year = c->dc_ymd.y;
    return in;
}

static bool birthday_given(const loy_member *m, int32_t year)
{
    for (size_t i = 0; i < m->birthday_year_count; i++)
        if (m->birthday_years[i] == year)
            return true;
    return false;
}

static bool record_birthday(loy_ctx *c, int32_t year)
{
    loy_member *m = c->m;
    if (m->birthday_year_count >= m->birthday_year_cap &&
        !LOY_GROW(m->alloc, m->birthday_years, m->birthday_year_cap, m->birthday_year_count + 1))
        return loy_refuse(c, LOY_E_NOMEM, "out of memory");
    size_t at = m->birthday_year_count;
    while (at > 0 && m->birthday_years[at - 1] > year)
        at--;
    memmove(m->birthday_years + at + 1, m->birthday_years + at,
            (m->birthday_year_count - at) * sizeof *m->birthday_years);
    m->birthday_years[at] = year;
    m->birthday_year_count++;
    return true;
}

static bool birthday_gift(loy_ctx *c)
{
    const loy_policy *p = c->p;
    const loy_gifts *g = &p->gifts;
    loy_member *m = c->m;
    if (!g->has_birthday)
        return true;
    if (m->birthday == LOY_DAY_NONE) {
        LOY_TRACE(c, "gift:birthday", false, "the member has no birthday");
        return true;
    }
    int32_t year;
    if (!birthday_occurrence_today(c, m->birthday, &year)) {
        /* The date is for the trace only: not worked out when it is off. */
        if (c->trace) {
            char bday[11];
            loy_format_date(loy_ctx_birthday_this_year(c, m->birthday), bday);
            LOY_TRACE(c, "gift:birthday", false, "not in the birthday window (birthday %s this year)", bday);
        }
        return true;
    }
    if (birthday_given(m, year)) {
        LOY_TRACE(c, "gift:birthday", false, "already given for %d", (int)year);
        return true;
    }
    int64_t days = (int64_t)c->day - m->joined;
    if (days < g->bday_min_member_days) {
        LOY_TRACE(c, "gift:birthday", false, "joined too recently: %lld days < %d",
                  (long long)days, (int)g->bday_min_member_days);
        return true;
    }
    int32_t tier = m->tier;
    while (tier >= 0 && !g->birthday[tier])
        tier--;
    if (tier < 0) {
        LOY_TRACE(c, "gift:birthday", false, "no tier at or below %s has a birthday gift",
                  p->tiers.levels[m->tier].id);
        return true;
    }
    /* A window can reach the next year's birthday; in year 10000 that
     * occurrence is a result past 9999-12-31 (§1), which no state holds. */
    if (year > 9999)
        return loy_refuse(c, LOY_E_OVERFLOW, "the birthday gift's occurrence falls past 9999-12-31");
    if (!record_birthday(c, year))
        return false;
    const loy_reward *reward = g->birthday[tier];
    loy_node *x;
    loy_node *e = gift_effect(c, "birthday", &p->effect_nodes.birthday[tier], 2, &x);
    if (x) {
        rn_sib(rn_init_str(x, "tier", p->tiers.levels[tier].id));
        rn_init_int(x + 1, "year", year);
        gift_effect_done(c, e, x, 2);
    }
    LOY_TRACE(c, "gift:birthday", true, "%d occurrence, %s's gift", (int)year, p->tiers.levels[tier].id);
    return credit_reward_points(c, reward, "birthday");
}

/* ----------------------------------------------------------------- surprise */

static bool has_mark(const loy_gift_mark *marks, size_t count, int32_t index, int32_t period)
{
    for (size_t i = 0; i < count; i++)
        if (marks[i].index == index && marks[i].period == period)
            return true;
    return false;
}

/* Under `once: lifetime` any entry of the gift means given, whatever year
 * it names: a ledger kept from a policy where the gift was per_year. */
static bool has_any_mark(const loy_gift_mark *marks, size_t count, int32_t index)
{
    for (size_t i = 0; i < count; i++)
        if (marks[i].index == index)
            return true;
    return false;
}

static __attribute__((noinline)) bool add_mark_grow(loy_ctx *c, loy_gift_mark **marks, size_t count,
                                                    size_t *cap)
{
    if (!LOY_GROW(c->m->alloc, *marks, *cap, count + 1))
        return loy_refuse(c, LOY_E_NOMEM, "out of memory");
    return true;
}

/* Inline, with the growing out of line: there is nearly always room (the
 * working copy keeps its capacity), and a monthly spend gift marks about
 * every other order. */
static inline __attribute__((always_inline)) bool
add_mark(loy_ctx *c, loy_gift_mark **marks, size_t *count, size_t *cap, int32_t index, int32_t period)
{
    if (*count >= *cap && !add_mark_grow(c, marks, *count, cap))
        return false;
    (*marks)[*count].index = index;
    (*marks)[*count].period = period;
    (*count)++;
    return true;
}

/* XXH3-64 of member_id ":" gift_id mod 10000, the same on every machine.
 * XXH3's streaming and one-shot forms hash the same bytes to the same
 * value; the usual short key is joined on the stack and hashed in one
 * call, which skips the streaming state's set-up and buffering. */
static int32_t sample_draw(const char *member_id, const char *gift_id)
{
    size_t ml = strlen(member_id), gl = strlen(gift_id);
    char key[128];
    if (ml < sizeof key && gl < sizeof key - 1 - ml) {
        memcpy(key, member_id, ml);
        key[ml] = ':';
        memcpy(key + ml + 1, gift_id, gl);
        return (int32_t)(XXH3_64bits(key, ml + 1 + gl) % 10000u);
    }
    XXH3_state_t state;
    XXH3_64bits_reset(&state);
    XXH3_64bits_update(&state, member_id, ml);
    XXH3_64bits_update(&state, ":", 1);
    XXH3_64bits_update(&state, gift_id, gl);
    return (int32_t)(XXH3_64bits_digest(&state) % 10000u);
}

/* Surprise `index`'s `when`, from the plan when the policy has one: its
 * tests answer as loy_cond_holds does (tests/test_gifts_fast.c). */
static inline __attribute__((always_inline)) bool surprise_holds(loy_ctx *c, uint32_t index)
{
    const loy_gift_plan *pl = c->p->surprise_plan;
    if (!pl)
        return loy_cond_holds(c, c->p->gifts.surprise[index].when);
    const loy_member *m = c->m;
    const loy_gift_test *t = pl->tests + pl->start[index], *end = pl->tests + pl->start[index + 1];
    for (; t < end; t++) {
        bool ok;
        switch (t->kind) {
        case LOY_GT_TIER_AT_LEAST: ok = m->tier >= t->a; break;
        case LOY_GT_TIER_BELOW: ok = m->tier < t->a; break;
        case LOY_GT_DATE_BETWEEN: ok = !c->no_event && c->day >= t->a && c->day <= t->b; break;
        case LOY_GT_MONTH: ok = !c->no_event && (t->months >> loy_ctx_ymd(c).m & 1); break;
        case LOY_GT_ORDERS_AT_LEAST: ok = m->orders >= t->a; break;
        case LOY_GT_MEMBER_DAYS: ok = (int64_t)c->day - m->joined >= t->a; break;
        default: ok = loy_cond_holds(c, t->cond); break;
        }
        if (!ok)
            return false;
    }
    return true;
}

bool loy_surprise_holds(loy_ctx *c, uint32_t index)
{
    return surprise_holds(c, index);
}

/* false when the plan's gate shows that no surprise holds at this event:
 * the member is below every surprise's tier, or each surprise has date
 * tests and this month is in none of them (nor is there an event to date).
 * Most events stop here instead of asking each surprise. The trace names
 * every surprise, so it asks them all. */
static inline __attribute__((always_inline)) bool surprises_may_hold(loy_ctx *c)
{
    const loy_gift_plan *pl = c->p->surprise_plan;
    if (!pl || c->trace)
        return true;
    if (c->m->tier < pl->tier_min)
        return false;
    return !pl->dated || (!c->no_event && (pl->months >> loy_ctx_ymd(c).m & 1));
}

bool loy_surprises_may_hold(loy_ctx *c)
{
    return surprises_may_hold(c);
}

/* The rest of a surprise once its condition holds (a few events in a
 * hundred): out of line, so the loop over the conditions keeps its
 * registers and the effect's set-up off the usual path. */
static __attribute__((noinline)) bool surprise_give(loy_ctx *c, int32_t index)
{
    const loy_surprise *s = &c->p->gifts.surprise[index];
    loy_member *m = c->m;
    int32_t period = s->per_year ? loy_ctx_ymd(c).y : 0;
    if (s->per_year ? has_mark(m->surprise_given, m->surprise_given_count, index, period)
                    : has_any_mark(m->surprise_given, m->surprise_given_count, index)) {
        if (s->per_year)
            LOY_TRACE(c, "gift:surprise", false, "%s: already given for %d", s->id, (int)period);
        else
            LOY_TRACE(c, "gift:surprise", false, "%s: already given (once: lifetime)", s->id);
        return true;
    }
    int32_t draw = sample_draw(m->id, s->id);
    if (draw >= s->sample) {
        LOY_TRACE(c, "gift:surprise", false, "%s: not sampled (draw %d, sample below %d)",
                  s->id, (int)draw, (int)s->sample);
        return true;
    }
    if (!add_mark(c, &m->surprise_given, &m->surprise_given_count, &m->surprise_given_cap, index, period))
        return false;
    push_fixed_effect(c, &c->p->effect_nodes.surprise[index]);
    LOY_TRACE(c, "gift:surprise", true, "%s: sampled (draw %d, sample below %d)", s->id, (int)draw, (int)s->sample);
    return credit_reward_points(c, &s->reward, "surprise");
}

static inline __attribute__((always_inline)) bool surprise_gift(loy_ctx *c, int32_t index)
{
    if (surprise_holds(c, (uint32_t)index))
        return surprise_give(c, index);
    if (c->trace) {
        const loy_surprise *s = &c->p->gifts.surprise[index];
        loy_trace_cond(c, "gift:surprise", s->when, s->id);
    }
    return true;
}

/* -------------------------------------------------------------------- spend */

/* The period's name, for the trace and the gift: written only when one of
 * them needs it. */
static void spend_label(const loy_spend_gift *g, int32_t period, char label[16])
{
    if (g->period == LOY_SP_ORDER)
        memcpy(label, "this order", sizeof "this order");
    else if (g->period == LOY_SP_MONTH)
        loy_format_month(period, label);
    else
        snprintf(label, 16, "%04d", (int)(period - LOY_SPEND_YEAR_MARK));
}

static bool spend_gift(loy_ctx *c, int32_t index)
{
    const loy_spend_gift *g = &c->p->gifts.spend[index];
    loy_member *m = c->m;
    int64_t spend = 0;
    int32_t period = 0;
    char label[16];
    if (g->period == LOY_SP_ORDER) {
        /* Each order is its own period: an order event is applied once,
         * but an imported entry may already name this order (§11.2). */
        spend = c->order_qualifying;
        if (m->spend_order_count && c->ev) {
            uint64_t order = XXH3_64bits(c->ev->id.s, c->ev->id.len);
            for (size_t i = 0; i < m->spend_order_count; i++)
                if (m->spend_orders[i].index == index && m->spend_orders[i].order == order) {
                    LOY_TRACE(c, "gift:spend", false, "%s: already given for this order (imported)", g->id);
                    return true;
                }
        }
    } else {
        loy_ymd d = loy_ctx_ymd(c);
        loy_month from, to;
        if (g->period == LOY_SP_MONTH) {
            period = loy_month_of_ymd(d);
            from = to = period;
        } else {
            period = LOY_SPEND_YEAR_MARK + d.y;
            from = d.y * 12;
            to = from + 11;
        }
        /* The spend is not part of this trace: not summed for it. */
        if (has_mark(m->spend_given, m->spend_given_count, index, period)) {
            if (c->trace) {
                spend_label(g, period, label);
                loy_trace(c, "gift:spend", false, "%s: already given for %s", g->id, label);
            }
            return true;
        }
        /* A sum past int64 is above any threshold. */
        if (from == to)
            spend = loy_month_spend_now(c);
        else if (!loy_metric_sum(m, LOY_METRIC_SPEND, from, to, &spend))
            spend = INT64_MAX;
    }
    if (spend < g->at_least) {
        if (c->trace) {
            spend_label(g, period, label);
            loy_trace(c, "gift:spend", false, "%s: spend %lld for %s < %lld", g->id, (long long)spend,
                      label, (long long)g->at_least);
        }
        return true;
    }
    if (g->period != LOY_SP_ORDER &&
        !add_mark(c, &m->spend_given, &m->spend_given_count, &m->spend_given_cap, index, period))
        return false;
    /* An order's gift has no period: its effect is the policy's whole
     * (lib/policy/gifts.c). A month's period is a lazy month node,
     * formatted on read; a year's is the label, copied. */
    bool monthly = g->period == LOY_SP_MONTH;
    loy_node *x = NULL, *e = &loy_nomem_node;
    const loy_node *whole = c->p->effect_nodes.spend_whole;
    if (g->period == LOY_SP_ORDER && whole)
        push_fixed_effect(c, &whole[index]);
    else
        e = gift_effect(c, "spend", &c->p->effect_nodes.spend[index], monthly ? 2 : 1, &x);
    if (x) {
        rn_init_str(x, "id", g->id);
        if (monthly) {
            rn_sib(x);
            loy_node *n = rn_init(x + 1, LOY_NODE_STRING, "period");
            n->lazy = LOY_LAZY_MONTH;
            n->i = period;
        }
        gift_effect_done(c, e, x, monthly ? 2 : 1);
    }
    if (g->period == LOY_SP_YEAR || c->trace)
        spend_label(g, period, label);
    if (g->period == LOY_SP_YEAR)
        rn_put(e, "period", rn_strdup(c->r, label, strlen(label)));
    LOY_TRACE(c, "gift:spend", true, "%s: spend %lld for %s >= %lld", g->id, (long long)spend, label,
              (long long)g->at_least);
    return credit_reward_points(c, &g->reward, "spend");
}

/* ------------------------------------------------------------------- step 5 */

bool loy_step_gifts(loy_ctx *c)
{
    const loy_gifts *g = &c->p->gifts;
    if (!birthday_gift(c))
        return false;
    if (g->surprise_count && surprises_may_hold(c))
        for (uint32_t i = 0; i < g->surprise_count; i++)
            if (!surprise_gift(c, (int32_t)i))
                return false;
    if (!c->is_order)
        return true;
    for (uint32_t i = 0; i < g->spend_count; i++)
        if (!spend_gift(c, (int32_t)i))
            return false;
    return true;
}
