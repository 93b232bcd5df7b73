/*
 * The member line (POLICY.md §11.2) into loy_member_init and the profile
 * and import calls of the public API.
 *
 * Unlike an event, a member object is strict: a field it does not know is
 * refused (a typo in an import field would otherwise silently reset a
 * member's history). The whole object's shape is checked before the first
 * call; the import then runs on a scratch handle that replaces the
 * caller's only when everything went through, so a refused value (an
 * unknown tier, a bad date) or an allocation failure (LOY_E_NOMEM) leaves
 * the caller's handle exactly as it was.
 */
#include "wire.h"
#include "member.h"

#include <inttypes.h>
#include <stdio.h>

static const char *const member_fields[] = {
    "id", "joined", "birthday", "tags", "tier", "tier_since", "points", "spend_by_month",
    "growth_by_month", "orders_by_month", "points_earned_by_month", "orders", "last_order",
    "gifts_given", "paid",
};

static const char *const gift_kinds[] = {"upgrade", "birthday", "surprise", "spend"};

static const struct {
    const char *field;
    loy_metric metric;
} month_fields[] = {
    {"spend_by_month", LOY_METRIC_SPEND},
    {"orders_by_month", LOY_METRIC_ORDERS},
    {"growth_by_month", LOY_METRIC_GROWTH},
    {"points_earned_by_month", LOY_METRIC_POINTS_EARNED},
};

#define INVALID LOY_E_INVALID_MEMBER

static bool known(const char *key, const char *const *words, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(key, words[i]) == 0)
            return true;
    return false;
}

static bool unknown_field(loy_rd *d, const char *where, const loy_json *field,
                          const char *const *words, size_t count)
{
    const char *hint = loy_wire_suggest(field->key, words, count);
    if (hint)
        return loy_rd_fail(d, INVALID, "%s: unknown field '%.64s'; did you mean '%s'?", where,
                           field->key, hint);
    return loy_rd_fail(d, INVALID, "%s: unknown field '%.64s'", where, field->key);
}

static bool is_text(const loy_json *v)
{
    return loy_json_is_text(v) && v->len > 0;
}

/* docs/wire.md: a key written twice is kept twice and the first one wins
 * for every reader. The month maps and gifts_given are read child by
 * child, not through loy_json_get, so their later repeats are unlinked
 * before anything reads them (the tree is this line's, in the wire arena).
 * A map of a few years is checked against its earlier keys; a longer one
 * by month number, in a bitset of every month to 9999-12, so that a line
 * of any length stays linear. */
#define MONTH_COUNT (LOY_MONTH_LAST + 1)
#define MONTH_MAP_SCANNED 48
static void drop_repeated_children(loy_json *map)
{
    for (loy_json **link = &map->first; *link;) {
        loy_json *v = *link;
        const loy_json *first = loy_json_getn(map, v->key, v->key_len);
        if (first != v) {
            *link = v->next;
            map->count--;
        } else {
            link = &v->next;
        }
    }
}

static bool drop_repeated_keys(loy_wire *w, loy_json *m)
{
    uint8_t *seen = NULL;
    for (size_t k = 0; k < LOY_ARRAY_LEN(month_fields); k++) {
        loy_json *map = (loy_json *)(uintptr_t)loy_json_get(m, month_fields[k].field);
        if (!map || map->type != LOY_JSON_OBJECT || map->count < 2)
            continue;
        if (map->count <= MONTH_MAP_SCANNED) {
            drop_repeated_children(map);
            continue;
        }
        if (!seen && !(seen = loy_arena_take(&w->arena, MONTH_COUNT / 8)))
            return false;
        memset(seen, 0, MONTH_COUNT / 8);
        for (loy_json **link = &map->first; *link;) {
            loy_json *v = *link;
            loy_month mon;
            if (loy_parse_month(v->key, v->key_len, &mon) && mon >= 0 && mon < MONTH_COUNT) {
                uint8_t bit = (uint8_t)(1u << (mon & 7));
                if (seen[mon >> 3] & bit) {
                    *link = v->next;
                    map->count--;
                    continue;
                }
                seen[mon >> 3] |= bit;
            }
            link = &v->next;
        }
    }
    /* gifts_given's keys are its four kinds (any other is refused as
     * unknown), so a kind is found by its bit. */
    loy_json *gifts = (loy_json *)(uintptr_t)loy_json_get(m, "gifts_given");
    if (gifts && gifts->type == LOY_JSON_OBJECT) {
        unsigned kinds = 0;
        for (loy_json **link = &gifts->first; *link;) {
            loy_json *v = *link;
            bool repeated = false;
            for (unsigned i = 0; i < LOY_ARRAY_LEN(gift_kinds); i++) {
                if (strcmp(v->key, gift_kinds[i]) == 0) {
                    repeated = kinds & (1u << i);
                    kinds |= 1u << i;
                    break;
                }
            }
            if (repeated) {
                *link = v->next;
                gifts->count--;
            } else {
                link = &v->next;
            }
        }
    }
    return true;
}

/* Every field's JSON type, before anything is called. */
static bool check_shape(loy_rd *d, const loy_json *m)
{
    for (const loy_json *f = m->first; f; f = f->next)
        if (!known(f->key, member_fields, LOY_ARRAY_LEN(member_fields)))
            return unknown_field(d, "member", f, member_fields, LOY_ARRAY_LEN(member_fields));

    const char *s;
    if (!loy_rd_string(d, INVALID, m, "id", true, true, &s)
        || !loy_rd_string(d, INVALID, m, "joined", true, false, &s)
        || !loy_rd_string(d, INVALID, m, "tier", false, true, &s)
        || !loy_rd_string(d, INVALID, m, "tier_since", false, false, &s)
        || !loy_rd_string(d, INVALID, m, "last_order", false, false, &s))
        return false;

    const loy_json *birthday = loy_json_get(m, "birthday");
    if (birthday && birthday->type != LOY_JSON_NULL
        && !loy_json_is_text(birthday))
        return loy_rd_fail(d, INVALID, "member: 'birthday' must be a date \"YYYY-MM-DD\" or null");

    const loy_json *tags = loy_json_get(m, "tags");
    if (tags) {
        if (tags->type != LOY_JSON_ARRAY)
            return loy_rd_fail(d, INVALID, "member: 'tags' must be a list of strings");
        size_t i = 0;
        for (const loy_json *t = tags->first; t; t = t->next, i++)
            if (!is_text(t))
                return loy_rd_fail(d, INVALID, "member.tags[%zu]: a tag must be a non-empty string", i);
    }

    const loy_json *points = loy_json_get(m, "points");
    if (points) {
        if (points->type != LOY_JSON_ARRAY)
            return loy_rd_fail(d, INVALID,
                               "member: 'points' must be a list of lots {\"points\": N, \"expires\": \"YYYY-MM-DD\"}");
        size_t i = 0;
        char where[40];
        for (const loy_json *lot = points->first; lot; lot = lot->next, i++) {
            snprintf(where, sizeof where, "member.points[%zu]", i);
            if (lot->type != LOY_JSON_OBJECT)
                return loy_rd_fail(d, INVALID, "%s: a lot must be an object {\"points\", \"expires\"}", where);
            static const char *const lot_fields[] = {"points", "expires"};
            for (const loy_json *f = lot->first; f; f = f->next)
                if (!known(f->key, lot_fields, 2))
                    return unknown_field(d, where, f, lot_fields, 2);
            loy_rd ld = {.where = where};
            int64_t n;
            if (!loy_rd_count(&ld, INVALID, lot, "points", true, &n, NULL)
                || !loy_rd_string(&ld, INVALID, lot, "expires", false, false, &s)) {
                d->code = ld.code;
                memcpy(d->message, ld.message, sizeof d->message);
                return false;
            }
        }
    }

    for (size_t k = 0; k < LOY_ARRAY_LEN(month_fields); k++) {
        const loy_json *months = loy_json_get(m, month_fields[k].field);
        if (!months)
            continue;
        if (months->type != LOY_JSON_OBJECT)
            return loy_rd_fail(d, INVALID, "member: '%s' must be an object {\"YYYY-MM\": N}",
                               month_fields[k].field);
        char where[48];
        snprintf(where, sizeof where, "member.%s", month_fields[k].field);
        loy_rd md = {.where = where};
        int64_t n;
        for (const loy_json *v = months->first; v; v = v->next) {
            if (!loy_rd_count_value(&md, INVALID, v, v->key, &n)) {
                d->code = md.code;
                memcpy(d->message, md.message, sizeof d->message);
                return false;
            }
        }
    }

    int64_t n;
    if (!loy_rd_count(d, INVALID, m, "orders", false, &n, NULL))
        return false;

    const loy_json *gifts = loy_json_get(m, "gifts_given");
    if (gifts) {
        if (gifts->type != LOY_JSON_OBJECT)
            return loy_rd_fail(d, INVALID,
                               "member: 'gifts_given' must be an object of upgrade, birthday, surprise, spend lists");
        for (const loy_json *kind = gifts->first; kind; kind = kind->next) {
            if (!known(kind->key, gift_kinds, LOY_ARRAY_LEN(gift_kinds)))
                return unknown_field(d, "member.gifts_given", kind, gift_kinds, LOY_ARRAY_LEN(gift_kinds));
            if (kind->type != LOY_JSON_ARRAY)
                return loy_rd_fail(d, INVALID, "member.gifts_given: '%s' must be a list", kind->key);
            bool years = strcmp(kind->key, "birthday") == 0;
            size_t i = 0;
            for (const loy_json *e = kind->first; e; e = e->next, i++) {
                if (years) {
                    char where[48];
                    snprintf(where, sizeof where, "member.gifts_given.birthday[%zu]", i);
                    loy_rd yd = {.where = where};
                    if (!loy_rd_count_value(&yd, INVALID, e, "year", &n)) {
                        d->code = yd.code;
                        memcpy(d->message, yd.message, sizeof d->message);
                        return false;
                    }
                } else if (!is_text(e)) {
                    return loy_rd_fail(d, INVALID,
                                       "member.gifts_given.%s[%zu]: an entry must be a non-empty string",
                                       kind->key, i);
                }
            }
        }
    }

    const loy_json *paid = loy_json_get(m, "paid");
    if (paid) {
        if (paid->type != LOY_JSON_OBJECT)
            return loy_rd_fail(d, INVALID, "member: 'paid' must be an object {\"plan\", \"until\"}");
        static const char *const paid_fields[] = {"plan", "until"};
        for (const loy_json *f = paid->first; f; f = f->next)
            if (!known(f->key, paid_fields, 2))
                return unknown_field(d, "member.paid", f, paid_fields, 2);
        loy_rd pd = {.where = "member.paid"};
        if (!loy_rd_string(&pd, INVALID, paid, "plan", true, true, &s)
            || !loy_rd_string(&pd, INVALID, paid, "until", true, false, &s)) {
            d->code = pd.code;
            memcpy(d->message, pd.message, sizeof d->message);
            return false;
        }
    }
    return true;
}

/* A call of the member API; on failure the member says why. */
static bool call(loy_rd *d, loy_member *member, int rc, const char *field)
{
    if (rc == LOY_OK)
        return true;
    const char *why = loy_member_error(member);
    return loy_rd_fail(d, rc, "member.%s: %s", field, why && why[0] ? why : loy_strerror(rc));
}

static const char *str_of(const loy_json *m, const char *key)
{
    const loy_json *v = loy_json_get(m, key);
    return v && v->type == LOY_JSON_STRING ? v->str : NULL;
}

/* The checked object, applied through the public API in a fixed order: the
 * tier before the lots and months, months before the lifetime order count
 * (which must not be below their sum), the plan last. */
static bool import(loy_rd *d, loy_member *member, const loy_json *m)
{
    if (!call(d, member, loy_member_init(member, str_of(m, "id"), str_of(m, "joined")), "joined"))
        return false;
    const loy_json *birthday = loy_json_get(m, "birthday");
    if (birthday && birthday->type == LOY_JSON_STRING
        && !call(d, member, loy_member_set_birthday(member, birthday->str), "birthday"))
        return false;
    const loy_json *tags = loy_json_get(m, "tags");
    for (const loy_json *t = tags ? tags->first : NULL; t; t = t->next)
        if (!call(d, member, loy_member_add_tag(member, t->str), "tags"))
            return false;

    const char *tier = str_of(m, "tier"), *since = str_of(m, "tier_since");
    if (tier || since) {
        /* tier_since alone dates the entry tier; borrowed ids change with the
         * member, so the entry tier's id is copied first. */
        char entry[128] = "";
        if (!tier) {
            const char *t = loy_member_tier(member);
            snprintf(entry, sizeof entry, "%s", t ? t : "");
            tier = entry;
        }
        if (!call(d, member, loy_member_import_tier(member, tier, since), "tier"))
            return false;
    }

    const loy_json *points = loy_json_get(m, "points");
    for (const loy_json *lot = points ? points->first : NULL; lot; lot = lot->next) {
        int64_t n = 0;
        loy_json_int(loy_json_get(lot, "points"), &n);
        if (!call(d, member, loy_member_import_lot(member, n, str_of(lot, "expires")), "points"))
            return false;
    }

    for (size_t k = 0; k < LOY_ARRAY_LEN(month_fields); k++) {
        const loy_json *months = loy_json_get(m, month_fields[k].field);
        for (const loy_json *v = months ? months->first : NULL; v; v = v->next) {
            int64_t n = 0;
            loy_json_int(v, &n);
            if (!call(d, member, loy_member_import_month(member, month_fields[k].metric, v->key, n),
                      month_fields[k].field))
                return false;
        }
    }

    const loy_json *orders = loy_json_get(m, "orders");
    if (orders) {
        int64_t n = 0;
        loy_json_int(orders, &n);
        if (!call(d, member, loy_member_import_orders(member, n), "orders"))
            return false;
    }
    const char *last_order = str_of(m, "last_order");
    if (last_order && !call(d, member, loy_member_import_last_order(member, last_order), "last_order"))
        return false;

    const loy_json *gifts = loy_json_get(m, "gifts_given");
    for (const loy_json *kind = gifts ? gifts->first : NULL; kind; kind = kind->next) {
        for (const loy_json *e = kind->first; e; e = e->next) {
            char year[24];
            const char *entry = e->str;
            if (e->type == LOY_JSON_NUMBER) {
                int64_t y = 0;
                loy_json_int(e, &y);
                snprintf(year, sizeof year, "%" PRId64, y);
                entry = year;
            }
            if (!call(d, member, loy_member_import_gift(member, kind->key, entry), "gifts_given"))
                return false;
        }
    }

    const loy_json *paid = loy_json_get(m, "paid");
    if (paid && !call(d, member, loy_member_import_paid(member, str_of(paid, "plan"), str_of(paid, "until")),
                      "paid"))
        return false;
    return true;
}

/* On success the answer is the new member's summary, so a caller of the
 * JSON API sees the tier and stage the import gave. */
static int summary(loy_result *r, loy_member *member)
{
    loy_result_begin(r);
    loy_node *root = rn_map(r);
    loy_node *m = rn_put(root, "member", rn_map(r));
    const char *id = loy_member_id(member), *tier = loy_member_tier(member),
               *stage = loy_member_stage(member);
    rn_put(m, "id", rn_strdup(r, id ? id : "", id ? strlen(id) : 0));
    rn_put(m, "tier", rn_strdup(r, tier ? tier : "", tier ? strlen(tier) : 0));
    loy_node *points = rn_put(m, "points", rn_map(r));
    rn_put_int(r, points, "available", loy_member_points_available(member));
    rn_put_int(r, points, "pending", loy_member_points_pending(member));
    rn_put(m, "stage", stage ? rn_strdup(r, stage, strlen(stage)) : rn_null(r));
    if (r->nomem) {
        r->root = NULL;
        return loy_result_set_code(r, LOY_E_NOMEM, "out of memory");
    }
    r->root = root;
    return loy_result_set_code(r, LOY_OK, NULL);
}

static int init_parsed(loy_wire *w, loy_member *member, const loy_json *root, loy_result *result);

int loy_member_init_json(loy_member *member, const char *json, size_t len, loy_result *result)
{
    if (!result)
        return LOY_E_INVALID_ARG;
    if (!member || (!json && len))
        return loy_wire_error(result, NULL, LOY_E_INVALID_ARG, "loy_member_init_json: a NULL argument");
    loy_wire *w = loy_wire_get(result);
    if (!w)
        return loy_wire_error(result, NULL, LOY_E_NOMEM, "out of memory");
    w->last_was_query = false;
    loy_arena_reset(&w->arena);
    loy_json_error err;
    const loy_json *root = loy_json_parse(&w->arena, json ? json : "", len, 1, &err);
    if (!root) {
        if (err.nomem)
            return loy_wire_error(result, NULL, LOY_E_NOMEM, "out of memory");
        char message[256];
        snprintf(message, sizeof message, "malformed JSON at line %u, column %u: %s", err.line,
                 err.column, err.message);
        return loy_wire_error(result, NULL, LOY_E_JSON, message);
    }
    return init_parsed(w, member, root, result);
}

int loy_wire_member_init_parsed(loy_member *member, const loy_json *root, loy_result *result)
{
    if (!result)
        return LOY_E_INVALID_ARG;
    if (!member || !root)
        return loy_wire_error(result, NULL, LOY_E_INVALID_ARG, "loy_member_init_json: a NULL argument");
    loy_wire *w = loy_wire_get(result);
    if (!w)
        return loy_wire_error(result, NULL, LOY_E_NOMEM, "out of memory");
    w->last_was_query = false;
    return init_parsed(w, member, root, result);
}

/* The line parsed: what loy_member_init_json does with it. */
static int init_parsed(loy_wire *w, loy_member *member, const loy_json *root, loy_result *result)
{
    const loy_json *m = loy_json_get(root, "member");
    if (!m || m->type != LOY_JSON_OBJECT)
        return loy_wire_error(result, NULL, INVALID,
                              "the first line must be a member object {\"member\": {\"id\": ..., \"joined\": ...}}");
    for (const loy_json *f = root->first; f; f = f->next)
        if (strcmp(f->key, "member") != 0 || strlen(f->key) != f->key_len) {
            char message[160];
            snprintf(message, sizeof message, "unknown field '%.64s' beside 'member'", f->key);
            return loy_wire_error(result, NULL, INVALID, message);
        }

    if (!drop_repeated_keys(w, (loy_json *)(uintptr_t)m))
        return loy_wire_error(result, NULL, LOY_E_NOMEM, "out of memory");
    loy_rd d = {.where = "member"};
    if (!check_shape(&d, m))
        return loy_wire_error(result, NULL, d.code, d.message);
    /* The scratch handle is kept for the next member line (`loyalty
     * simulate` reads one per member): import() starts with loy_member_init,
     * which makes any handle a new member, whatever it held. */
    loy_member *scratch = w->import_scratch;
    if (scratch && scratch->policy != member->policy) {
        loy_member_free(scratch);
        scratch = w->import_scratch = NULL;
    }
    if (!scratch) {
        if (loy_member_create(&scratch, member->policy) != LOY_OK)
            return loy_wire_error(result, NULL, LOY_E_NOMEM, "out of memory");
        w->import_scratch = scratch;
    }
    int rc;
    if (!import(&d, scratch, m)) {
        loy_member_fail(member, d.code, "%s", d.message);
        rc = loy_wire_error(result, NULL, d.code, d.message);
    } else {
        rc = summary(result, scratch);
        if (rc == LOY_OK)
            loy_member_swap(member, scratch);
    }
    return rc;
}
