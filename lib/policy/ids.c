/*
 * p->state_ids (lib/policy.h): the ids the state bytes name, numbered by
 * string, built once at load after the rest of the policy. Equal strings
 * get one number whatever their kind, as the state's string table keeps
 * one entry for them (docs/state.md), so a writer that goes by number
 * writes the same bytes as one that compares strings.
 */
#include <stdlib.h>

#include "internal.h"

typedef struct sid_ref {
    const char *s;
    uint32_t kind, index;
} sid_ref;

static int cmp_ref(const void *a, const void *b)
{
    return strcmp(((const sid_ref *)a)->s, ((const sid_ref *)b)->s);
}

static const char *id_at(const loy_policy *p, unsigned kind, uint32_t i)
{
    switch (kind) {
    case LOY_SID_TIER: return p->tiers.levels[i].id;
    case LOY_SID_PLAN: return p->plans[i].id;
    case LOY_SID_STAGE: return p->stages[i].id;
    case LOY_SID_ACTION: return p->points.actions[i].kind;
    case LOY_SID_BENEFIT: return p->benefits[i].id;
    case LOY_SID_SURPRISE: return p->gifts.surprise[i].id;
    default: return p->gifts.spend[i].id;
    }
}

bool loy_policy_state_ids(loy_policy *p)
{
    loy_state_ids *ids = &p->state_ids;
    memset(ids, 0, sizeof *ids);
    const uint32_t counts[LOY_SID_KINDS] = {
        p->tiers.count, p->plan_count, p->stage_count, p->points.action_count,
        p->benefit_count, p->gifts.surprise_count, p->gifts.spend_count};
    size_t total = 0;
    for (unsigned k = 0; k < LOY_SID_KINDS; k++)
        total += counts[k];
    /* nothing to number, or more than a number holds: the writer then
     * compares strings as before */
    if (total == 0 || total > UINT32_MAX / 2)
        return true;
    for (unsigned k = 0; k < LOY_SID_KINDS; k++)
        for (uint32_t i = 0; i < counts[k]; i++)
            if (!id_at(p, k, i))
                return true;

    sid_ref *refs = loy_malloc(&p->alloc, total * sizeof *refs);
    uint32_t *numbers = loy_arena_alloc(p->arena, total * sizeof *numbers);
    const char **names = loy_arena_alloc(p->arena, total * sizeof *names);
    uint32_t *lens = loy_arena_alloc(p->arena, total * sizeof *lens);
    if (!refs || !numbers || !names || !lens) {
        loy_free(&p->alloc, refs);
        return false;
    }
    size_t n = 0;
    for (unsigned k = 0; k < LOY_SID_KINDS; k++) {
        ids->of[k] = numbers + n;
        for (uint32_t i = 0; i < counts[k]; i++)
            refs[n++] = (sid_ref){id_at(p, k, i), k, i};
    }
    qsort(refs, total, sizeof *refs, cmp_ref);
    uint32_t distinct = 0;
    for (size_t i = 0; i < total; i++) {
        if (i == 0 || strcmp(refs[i].s, refs[i - 1].s) != 0) {
            names[distinct] = refs[i].s;
            lens[distinct] = (uint32_t)strlen(refs[i].s);
            distinct++;
        }
        ids->of[refs[i].kind][refs[i].index] = distinct - 1;
    }
    loy_free(&p->alloc, refs);
    ids->names = names;
    ids->lens = lens;
    ids->count = distinct;
    return true;
}
