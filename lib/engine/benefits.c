/*
 * Benefits (POLICY.md §6): whether each is open to the member now, with
 * every reason when it is not (§11.4), and the use of one.
 */
#include "engine.h"

static const char *const period_names[4] = {"day", "week", "month", "year"};

static bool limit_reached(const loy_ctx *c, int32_t index)
{
    const loy_limit *limit = &c->p->benefits[index].limit;
    const loy_member *m = c->m;
    switch (limit->kind) {
    case LOY_LIMIT_ONCE:
        return loy_limit_uses(m->benefit_uses, m->benefit_use_count, index, limit, c->day) >= 1;
    case LOY_LIMIT_PER:
        return loy_limit_uses(m->benefit_uses, m->benefit_use_count, index, limit, c->day) >=
               limit->count;
    default:
        return false;
    }
}

static loy_node *limit_reason(loy_ctx *c, const loy_limit *limit)
{
    loy_result *r = c->r;
    loy_node *reason = rn_map(r);
    if (limit->kind == LOY_LIMIT_ONCE) {
        rn_put_str(r, reason, "limit", "once");
    } else {
        loy_node *per = rn_put(reason, "limit", rn_map(r));
        rn_put_int(r, per, "count", limit->count);
        rn_put_str(r, per, "per", period_names[limit->per]);
    }
    return reason;
}

static loy_node *scalar_value(loy_ctx *c, const loy_value *v)
{
    return v->kind == LOY_VAL_NUMBER ? rn_policy_decimal(c->r, v->text) : rn_str(c->r, v->text);
}

/* The benefit's value for the member's tier now, or NULL when it has none. */
static loy_node *benefit_value(loy_ctx *c, const loy_benefit *b)
{
    if (b->value.kind == LOY_VAL_NONE)
        return NULL;
    if (b->value.kind != LOY_VAL_BY_TIER)
        return scalar_value(c, &b->value);
    for (int32_t tier = c->m->tier; tier >= 0; tier--)
        if (b->value.by_tier[tier].kind != LOY_VAL_NONE)
            return scalar_value(c, &b->value.by_tier[tier]);
    return NULL;
}

/* Fills `reasons` with every failed condition, then the limit when reached.
 * Returns whether the benefit is open; *only_limit tells that the limit is
 * the only reason. */
static bool benefit_open(loy_ctx *c, int32_t index, loy_node *reasons, bool *only_limit)
{
    const loy_benefit *b = &c->p->benefits[index];
    bool conditions = loy_cond_explain(c, b->when, reasons);
    bool reached = limit_reached(c, index);
    if (reached)
        rn_push(reasons, limit_reason(c, &b->limit));
    *only_limit = conditions && reached;
    return conditions && !reached;
}

/* One entry's fixed nodes (map, id, kind, open, reasons) are one block:
 * the query lists every benefit of the policy. */
bool loy_benefits_list(loy_ctx *c, loy_node *list)
{
    loy_result *r = c->r;
    for (uint32_t i = 0; i < c->p->benefit_count; i++) {
        const loy_benefit *b = &c->p->benefits[i];
        loy_node *block = rn_block(r, 5);
        if (!block)
            return true;   /* nomem is set: the caller answers NOMEM */
        loy_node *entry = rn_push(list, rn_init_map(block, NULL));
        rn_link(entry, rn_init_str(block + 1, "id", b->id));
        rn_link(entry, rn_init_str(block + 2, "kind", b->kind));
        loy_node *reasons = rn_init_list(block + 4, "reasons");
        bool only_limit;
        bool open = benefit_open(c, (int32_t)i, reasons, &only_limit);
        rn_link(entry, rn_init_bool(block + 3, "open", open));
        if (!open)
            rn_link(entry, reasons);
        loy_node *value = benefit_value(c, b);
        if (value)
            rn_put(entry, "value", value);
    }
    return true;
}

static bool record_use(loy_ctx *c, int32_t index)
{
    loy_member *m = c->m;
    if (!loy_limit_record(c, &m->benefit_uses, &m->benefit_use_count, &m->benefit_use_cap, index,
                          &c->p->benefits[index].limit))
        return loy_refuse(c, LOY_E_NOMEM, "out of memory");
    return true;
}

bool loy_step_use_benefit(loy_ctx *c)
{
    const char *id = c->ev->benefit.s;
    int index = loy_policy_benefit_index(c->p, id);
    if (index < 0)
        return loy_refuse(c, LOY_E_UNKNOWN_BENEFIT, "no benefit '%s' in this policy", id);
    const loy_benefit *b = &c->p->benefits[index];
    loy_node *reasons = rn_list(c->r);
    bool only_limit;
    if (!benefit_open(c, index, reasons, &only_limit)) {
        loy_trace(c, "benefit", false, "%s: not open", b->id);
        c->reasons = reasons;
        return loy_refuse(c, only_limit ? LOY_E_BENEFIT_LIMIT_REACHED : LOY_E_BENEFIT_NOT_OPEN,
                          "benefit '%s' is not open to this member now", b->id);
    }
    if (!record_use(c, index))
        return false;
    loy_node *e = loy_effect(c, "benefit_used");
    rn_put_str(c->r, e, "benefit", b->id);
    loy_node *value = benefit_value(c, b);
    if (value)
        rn_put(e, "value", value);
    loy_trace(c, "benefit", true, "%s: open, use recorded", b->id);
    return true;
}
