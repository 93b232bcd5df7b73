/*
 * Event lines (POLICY.md §11.1) into loy_event setters, then loy_apply.
 *
 * The wire refuses what it cannot hand to the C API — a line that is not an
 * object, a type it does not know, a missing field, a field of the wrong
 * JSON type, a number that is not an int64 integer >= 0 — with the event's
 * id when the id itself is usable. Everything about values (instants,
 * dates, a return above its order...) is loy_apply's to decide, so the two
 * entry points refuse alike. Fields an event does not know are ignored.
 */
#include "wire.h"

#include <stdio.h>

static const struct {
    const char *name;
    loy_event_type type;
} event_types[] = {
    {"order", LOY_EVENT_ORDER},       {"return", LOY_EVENT_RETURN},
    {"action", LOY_EVENT_ACTION},     {"redeem", LOY_EVENT_REDEEM},
    {"use_benefit", LOY_EVENT_USE_BENEFIT}, {"join_paid", LOY_EVENT_JOIN_PAID},
    {"profile", LOY_EVENT_PROFILE},   {"tick", LOY_EVENT_TICK},
};

#define TYPE_LIST "order, return, action, redeem, use_benefit, join_paid, profile, tick"

static int fail(loy_result *r, const char *id, const loy_rd *d)
{
    return loy_wire_error(r, id, d->code, d->message);
}

/* A setter's failure: NOMEM is the only one a well-formed call can meet. */
static bool set_ok(loy_rd *d, int rc)
{
    if (rc == LOY_OK)
        return true;
    char where[96];
    return loy_rd_fail(d, rc, "%s: %s", loy_rd_where(d, where, sizeof where), loy_strerror(rc));
}

/* lines of an order or a return */
static bool read_lines(loy_rd *d, const loy_json *obj, loy_event *ev, const char *type)
{
    const loy_json *lines = loy_json_get(obj, "lines");
    if (!lines)
        return true;
    if (lines->type != LOY_JSON_ARRAY)
        return loy_rd_fail(d, LOY_E_INVALID_EVENT, "%s: 'lines' must be an array", type);
    size_t i = 0;
    for (const loy_json *line = lines->first; line; line = line->next, i++) {
        loy_rd ld = {.where = type, .list = "lines", .index = i};
        const char *sku, *category;
        int64_t amount = 0, qty = 1;
        if (line->type != LOY_JSON_OBJECT)
            return loy_rd_fail(d, LOY_E_INVALID_EVENT, "%s.lines[%zu]: a line must be an object", type, i);
        if (!loy_rd_string(&ld, LOY_E_INVALID_EVENT, line, "sku", false, true, &sku)
            || !loy_rd_string(&ld, LOY_E_INVALID_EVENT, line, "category", false, true, &category)
            || !loy_rd_count(&ld, LOY_E_INVALID_EVENT, line, "amount", true, &amount, NULL)
            || !loy_rd_count(&ld, LOY_E_INVALID_EVENT, line, "qty", false, &qty, NULL)) {
            d->code = ld.code;
            memcpy(d->message, ld.message, sizeof d->message);
            return false;
        }
        if (!set_ok(d, loy_event_add_line(ev, sku, category, amount, qty)))
            return false;
    }
    return true;
}

static bool read_order(loy_rd *d, const loy_json *obj, loy_event *ev)
{
    int64_t savings = 0;
    bool has_savings;
    if (!loy_rd_count(d, LOY_E_INVALID_EVENT, obj, "savings", false, &savings, &has_savings))
        return false;
    if (has_savings && !set_ok(d, loy_event_set_savings(ev, savings)))
        return false;
    return read_lines(d, obj, ev, "order");
}

static bool read_return(loy_rd *d, const loy_json *obj, loy_event *ev)
{
    int64_t amount = 0;
    if (!loy_rd_count(d, LOY_E_INVALID_EVENT, obj, "amount", true, &amount, NULL))
        return false;
    const loy_json *orig = loy_json_get(obj, "original");
    if (!orig)
        return loy_rd_fail(d, LOY_E_INVALID_EVENT, "return: missing 'original'");
    if (orig->type != LOY_JSON_OBJECT)
        return loy_rd_fail(d, LOY_E_INVALID_EVENT,
                           "return: 'original' must be an object {\"id\", \"at\", \"amount\", \"points\"}");
    loy_rd od = {.where = "return.original"};
    const char *oid, *oat;
    int64_t oamount = 0, opoints = 0;
    if (!loy_rd_string(&od, LOY_E_INVALID_EVENT, orig, "id", true, true, &oid)
        || !loy_rd_string(&od, LOY_E_INVALID_EVENT, orig, "at", true, false, &oat)
        || !loy_rd_count(&od, LOY_E_INVALID_EVENT, orig, "amount", true, &oamount, NULL)
        || !loy_rd_count(&od, LOY_E_INVALID_EVENT, orig, "points", true, &opoints, NULL)) {
        d->code = od.code;
        memcpy(d->message, od.message, sizeof d->message);
        return false;
    }
    if (!set_ok(d, loy_event_set_amount(ev, amount))
        || !set_ok(d, loy_event_set_original(ev, oid, oat, oamount, opoints)))
        return false;
    return read_lines(d, obj, ev, "return");
}

static bool read_string_field(loy_rd *d, const loy_json *obj, const char *key, loy_event *ev,
                              int (*setter)(loy_event *, const char *))
{
    const char *value;
    if (!loy_rd_string(d, LOY_E_INVALID_EVENT, obj, key, true, true, &value))
        return false;
    return set_ok(d, setter(ev, value));
}

static bool read_redeem(loy_rd *d, const loy_json *obj, loy_event *ev)
{
    int64_t points = 0, order_amount = 0;
    if (!loy_rd_count(d, LOY_E_INVALID_EVENT, obj, "points", true, &points, NULL)
        || !loy_rd_count(d, LOY_E_INVALID_EVENT, obj, "order_amount", true, &order_amount, NULL))
        return false;
    return set_ok(d, loy_event_set_points(ev, points))
        && set_ok(d, loy_event_set_order_amount(ev, order_amount));
}

static bool read_profile(loy_rd *d, const loy_json *obj, loy_event *ev)
{
    const loy_json *birthday = loy_json_get(obj, "birthday");
    const loy_json *tags = loy_json_get(obj, "tags");
    if (!birthday && !tags)
        return loy_rd_fail(d, LOY_E_INVALID_EVENT,
                           "profile: needs 'birthday' (a date or null), 'tags' (a list of strings) or both");
    if (birthday) {
        if (birthday->type == LOY_JSON_NULL) {
            if (!set_ok(d, loy_event_set_birthday(ev, NULL)))
                return false;
        } else if (loy_json_is_text(birthday)) {
            if (!set_ok(d, loy_event_set_birthday(ev, birthday->str)))
                return false;
        } else {
            return loy_rd_fail(d, LOY_E_INVALID_EVENT,
                               "profile: 'birthday' must be a date \"YYYY-MM-DD\" or null");
        }
    }
    if (tags) {
        if (tags->type != LOY_JSON_ARRAY)
            return loy_rd_fail(d, LOY_E_INVALID_EVENT, "profile: 'tags' must be a list of strings");
        size_t i = 0;
        for (const loy_json *t = tags->first; t; t = t->next, i++)
            if (!loy_json_is_text(t) || t->len == 0)
                return loy_rd_fail(d, LOY_E_INVALID_EVENT,
                                   "profile.tags[%zu]: a tag must be a non-empty string", i);
        if (!set_ok(d, loy_event_clear_tags(ev)))
            return false;
        for (const loy_json *t = tags->first; t; t = t->next)
            if (!set_ok(d, loy_event_add_tag(ev, t->str)))
                return false;
    }
    return true;
}

int loy_wire_apply_event(loy_wire *w, const loy_policy *policy, loy_member *member,
                         const loy_json *root, loy_result *r)
{
    if (root->type != LOY_JSON_OBJECT)
        return loy_wire_error(r, NULL, LOY_E_INVALID_EVENT, "an event must be a JSON object");

    const loy_json *id_v = loy_json_get(root, "id");
    const char *id = loy_json_is_text(id_v) && id_v->len > 0 ? id_v->str : NULL;

    const loy_json *type_v = loy_json_get(root, "type");
    if (!type_v) {
        if (loy_json_get(root, "member"))
            return loy_wire_error(r, id, LOY_E_INVALID_EVENT,
                                  "a member object {\"member\": ...} may only be the first line");
        return loy_wire_error(r, id, LOY_E_INVALID_EVENT,
                              "missing 'type'; expected one of " TYPE_LIST);
    }
    if (type_v->type != LOY_JSON_STRING)
        return loy_wire_error(r, id, LOY_E_INVALID_EVENT,
                              "'type' must be a string, one of " TYPE_LIST);
    loy_event_type type = 0;
    const char *type_name = NULL;
    for (size_t i = 0; i < LOY_ARRAY_LEN(event_types); i++) {
        if (!type_v->nul && strcmp(event_types[i].name, type_v->str) == 0) {
            type = event_types[i].type;
            type_name = event_types[i].name;
        }
    }
    if (!type_name) {
        char message[256];
        snprintf(message, sizeof message, "unknown event type '%.64s'; expected one of " TYPE_LIST,
                 type_v->str);
        return loy_wire_error(r, id, LOY_E_INVALID_EVENT, message);
    }

    loy_rd d = {.where = type_name};
    const char *at, *channel, *store;
    if (!id_v) {
        loy_rd_fail(&d, LOY_E_INVALID_EVENT, "%s: missing 'id'", type_name);
        return fail(r, NULL, &d);
    }
    if (!id) {
        loy_rd_fail(&d, LOY_E_INVALID_EVENT, "%s: 'id' must be a non-empty string", type_name);
        return fail(r, NULL, &d);
    }
    const loy_json *at_v = loy_json_get(root, "at");
    if (!at_v) {
        loy_rd_fail(&d, LOY_E_INVALID_EVENT, "%s: missing 'at'", type_name);
        return fail(r, id, &d);
    }
    if (!loy_json_is_text(at_v)) {
        loy_rd_fail(&d, LOY_E_INVALID_EVENT, "%s: 'at' must be an RFC 3339 instant with an offset",
                    type_name);
        return fail(r, id, &d);
    }
    at = at_v->str;
    if (!loy_rd_string(&d, LOY_E_INVALID_EVENT, root, "channel", false, true, &channel)
        || !loy_rd_string(&d, LOY_E_INVALID_EVENT, root, "store", false, true, &store))
        return fail(r, id, &d);

    if (w->event && w->event_policy != policy) {
        loy_event_free(w->event);
        w->event = NULL;
    }
    if (!w->event) {
        int rc = loy_event_new(&w->event, policy);
        if (rc != LOY_OK)
            return loy_wire_error(r, id, rc, "out of memory");
        w->event_policy = policy;
    }
    loy_event *ev = w->event;
    int rc = loy_event_reset(ev, type, id, at);
    if (rc != LOY_OK)
        return loy_wire_error(r, id, rc, loy_strerror(rc));
    if ((channel && !set_ok(&d, loy_event_set_channel(ev, channel)))
        || (store && !set_ok(&d, loy_event_set_store(ev, store))))
        return fail(r, id, &d);

    bool ok = true;
    switch (type) {
    case LOY_EVENT_ORDER:
        ok = read_order(&d, root, ev);
        break;
    case LOY_EVENT_RETURN:
        ok = read_return(&d, root, ev);
        break;
    case LOY_EVENT_ACTION:
        ok = read_string_field(&d, root, "kind", ev, loy_event_set_kind);
        break;
    case LOY_EVENT_REDEEM:
        ok = read_redeem(&d, root, ev);
        break;
    case LOY_EVENT_USE_BENEFIT:
        ok = read_string_field(&d, root, "benefit", ev, loy_event_set_benefit);
        break;
    case LOY_EVENT_JOIN_PAID:
        ok = read_string_field(&d, root, "plan", ev, loy_event_set_plan);
        break;
    case LOY_EVENT_PROFILE:
        ok = read_profile(&d, root, ev);
        break;
    case LOY_EVENT_TICK:
        break;
    }
    if (!ok)
        return fail(r, id, &d);
    return loy_apply(policy, member, ev, r);
}
