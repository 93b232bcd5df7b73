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
    if (total == 0 || total > (1u << 28))
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

    /* the reader's side: each number's kinds and a hash of the strings */
    uint32_t slots = 4;
    while (slots < 2 * (size_t)distinct)
        slots *= 2;
    uint64_t *head = loy_arena_alloc(p->arena, distinct * sizeof *head);
    int32_t *index_of = loy_arena_alloc(p->arena, (size_t)distinct * LOY_SID_KINDS * sizeof *index_of);
    uint32_t *slot = loy_arena_alloc(p->arena, slots * sizeof *slot);
    if (!head || !index_of || !slot)
        return false;
    memset(slot, 0, slots * sizeof *slot);
    for (size_t i = 0; i < (size_t)distinct * LOY_SID_KINDS; i++)
        index_of[i] = -1;
    /* the first index of a string within a kind, as a scan finds it */
    for (unsigned k = LOY_SID_KINDS; k-- > 0;)
        for (uint32_t i = counts[k]; i-- > 0;)
            index_of[(size_t)ids->of[k][i] * LOY_SID_KINDS + k] = (int32_t)i;
    for (uint32_t e = 0; e < distinct; e++) {
        head[e] = loy_state_id_head(names[e], lens[e]);
        /* Only strings the state bytes may hold (non-empty UTF-8, no NUL
         * in a C string) can be found: a string the reader finds is then
         * known good without checking its bytes. */
        if (lens[e] == 0 || !loy_utf8_valid(names[e], lens[e]))
            continue;
        uint32_t h = loy_state_id_hash(head[e], lens[e]) & (slots - 1);
        while (slot[h])
            h = (h + 1) & (slots - 1);
        slot[h] = e + 1;
    }
    ids->head = head;
    ids->index_of = index_of;
    ids->slots = slot;
    ids->mask = slots - 1;
    ids->names = names;
    ids->lens = lens;
    ids->count = distinct;
    return true;
}
