/*
 * Fuzz target: member state bytes (loy_member_load) under the reference
 * policies.
 *
 * Input: one control byte, then the state bytes. The control byte's low
 * two bits pick the policy (apparel, apparel with debts, grocery,
 * minimal); bit 2 set means "reseal": the harness rewrites the length
 * fields and the XXH3 checksum of docs/state.md before loading, so that
 * mutations reach the payload decoder instead of stopping at the checksum.
 *
 * Bytes either load or are refused with a state error code, leaving the
 * handle as it was. Bytes that load must give a member that keeps every
 * invariant (fuzz_common.h), whose bytes are a fixed point (load(out) ->
 * out), and that the engine can drive: a tick years later, an order, a
 * redemption, a benefit use, a query.
 */
#include "fuzz_common.h"

#include <xxhash.h>

static void fuzz_state_reseal(uint8_t *b, size_t total)
{
    if (total < 20)
        return;
    for (int i = 0; i < 4; i++) {
        b[4 + i] = (uint8_t)(total >> (8 * i));
        b[8 + i] = (uint8_t)(~total >> (8 * i));
    }
    uint64_t sum = XXH3_64bits(b, total - 8);
    for (size_t i = 0; i < 8; i++)
        b[total - 8 + i] = (uint8_t)(sum >> (8 * i));
}

static void fuzz_state_drive(const loy_policy *p, loy_member *m)
{
    loy_event *e = NULL;
    loy_result *r = NULL;
    FUZZ_CHECK(loy_event_new(&e, p) == LOY_OK && loy_result_new(&r, p) == LOY_OK, "event/result");
    static const char *const instants[] = {"2026-06-18T12:00:00+08:00", "2031-01-02T09:30:00+08:00",
                                           "9999-12-30T23:00:00+08:00"};
    for (size_t i = 0; i < 3; i++) {
        int rc = loy_query_benefits(p, m, instants[i], "pos", NULL, r);
        FUZZ_CHECK(rc == LOY_OK || rc == LOY_E_OVERFLOW, "query: %s", loy_error_name(rc));
        fz_check_result_json(r);

        char id[32];
        for (int type = LOY_EVENT_ORDER; type <= LOY_EVENT_TICK; type++) {
            snprintf(id, sizeof id, "FZ-%zu-%d", i, type);
            loy_event_reset(e, (loy_event_type)type, id, instants[i]);
            switch (type) {
            case LOY_EVENT_ORDER:
                loy_event_add_line(e, "SKU", "coats", 250000, 1);
                loy_event_set_savings(e, 1000);
                break;
            case LOY_EVENT_RETURN:
                loy_event_set_amount(e, 100000);
                loy_event_set_original(e, "FZ-0-1", "2026-06-18T12:00:00+08:00", 250000, 3000);
                break;
            case LOY_EVENT_ACTION: loy_event_set_kind(e, "review"); break;
            case LOY_EVENT_REDEEM:
                loy_event_set_points(e, 100);
                loy_event_set_order_amount(e, 100000);
                break;
            case LOY_EVENT_USE_BENEFIT:
                if (loy_policy_count(p, LOY_KIND_BENEFIT))
                    loy_event_set_benefit(e, loy_policy_id(p, LOY_KIND_BENEFIT, i % loy_policy_count(p, LOY_KIND_BENEFIT)));
                else
                    loy_event_set_benefit(e, "none");
                break;
            case LOY_EVENT_JOIN_PAID: loy_event_set_plan(e, "monthly"); break;
            case LOY_EVENT_PROFILE: loy_event_set_birthday(e, "2000-02-29"); break;
            default: break;
            }
            fz_bytes before = fz_state(m);
            rc = loy_apply(p, m, e, r);
            FUZZ_CHECK(fz_is_known_code(rc) && rc != LOY_E_NOMEM, "event type %d: code %d", type, rc);
            fz_check_result_json(r);
            if (rc != LOY_OK)
                fz_expect_state(m, &before, "a refused event");
            fz_check_member(p, m);
            free(before.data);
        }
    }
    loy_result_free(r);
    loy_event_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const loy_policy *p = fz_policy(data[0] & 3);
    size_t len = size - 1;
    uint8_t *bytes = malloc(len ? len : 1);
    FUZZ_CHECK(bytes != NULL, "out of memory in the harness");
    memcpy(bytes, data + 1, len);
    if (data[0] & 4)
        fuzz_state_reseal(bytes, len);

    loy_member *m = NULL;
    FUZZ_CHECK(loy_member_new(&m, p, "M-BEFORE", "2026-01-01") == LOY_OK, "member_new");
    fz_bytes before = fz_state(m);
    int rc = loy_member_load(m, bytes, len);
    if (rc != LOY_OK) {
        FUZZ_CHECK(rc == LOY_E_STATE_TRUNCATED || rc == LOY_E_STATE_CHECKSUM || rc == LOY_E_STATE_VERSION ||
                       rc == LOY_E_STATE_POLICY,
                   "load refused with %s", loy_error_name(rc));
        const char *why = loy_member_error(m);
        FUZZ_CHECK(why != NULL && why[0] != '\0', "refused without a message");
        fz_expect_state(m, &before, "a refused load");
    } else {
        fz_check_points(m);
        /* The bytes the library writes for what it loaded are a fixed point. */
        fz_bytes once = fz_state(m);
        loy_member *again = NULL;
        FUZZ_CHECK(loy_member_create(&again, p) == LOY_OK, "member_create");
        rc = loy_member_load(again, once.data, once.len);
        FUZZ_CHECK(rc == LOY_OK, "re-load of written bytes: %s: %s", loy_error_name(rc), loy_member_error(again));
        fz_bytes twice = fz_state(again);
        FUZZ_CHECK(fz_same(&once, &twice), "load(to_bytes(load(x))) is not a fixed point");
        free(once.data);
        free(twice.data);
        loy_member_free(again);
        fuzz_state_drive(p, m);
    }
    free(before.data);
    loy_member_free(m);
    free(bytes);
    return 0;
}
