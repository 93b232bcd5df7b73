/*
 * Fuzz target: the policy loader and validator (loy_policy_load_buffer) on
 * arbitrary YAML bytes. A policy either loads whole, with no diagnostic, or
 * not at all, with at least one positioned diagnostic. A policy that loads
 * is then driven a little — one member, an event of each type touching each
 * action, benefit and plan it names, benefits queries checked against the
 * general path — so that whatever the loader accepts, the engine can
 * evaluate.
 */
#include "fuzz_common.h"
#include "engine/engine.h"

#include <xxhash.h>

static void fuzz_policy_drive(const loy_policy *p)
{
    static const loy_kind kinds[] = {LOY_KIND_TIER, LOY_KIND_MULTIPLIER, LOY_KIND_ACTION, LOY_KIND_GIFT,
                                     LOY_KIND_BENEFIT, LOY_KIND_PLAN, LOY_KIND_STAGE};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        size_t n = loy_policy_count(p, kinds[k]);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(loy_policy_id(p, kinds[k], i) != NULL, "kind %d entry %zu has no id", (int)kinds[k], i);
        FUZZ_CHECK(loy_policy_id(p, kinds[k], n) == NULL, "kind %d: id past the end", (int)kinds[k]);
    }
    FUZZ_CHECK(loy_policy_count(p, LOY_KIND_TIER) >= 1, "a policy without tiers loaded");

    loy_member *m = NULL;
    loy_event *e = NULL;
    loy_result *r = NULL;
    FUZZ_CHECK(loy_member_new(&m, p, "M-FUZZ", "2026-01-01") == LOY_OK, "member_new");
    FUZZ_CHECK(loy_member_set_birthday(m, "1990-02-28") == LOY_OK, "set_birthday");
    FUZZ_CHECK(loy_event_new(&e, p) == LOY_OK && loy_result_new(&r, p) == LOY_OK, "event/result");
    loy_result_set_options(r, LOY_RESULT_TRACE | LOY_RESULT_FINGERPRINT);
    fz_check_member(p, m);

    char id[32];
    int seq = 0;
#define FZ_NEXT_ID() (snprintf(id, sizeof id, "E-%d", ++seq), id)
    int rc;

    loy_event_reset(e, LOY_EVENT_ORDER, FZ_NEXT_ID(), "2026-02-08T15:00:00+08:00");
    loy_event_set_channel(e, "mini_program");
    loy_event_set_savings(e, 500);
    loy_event_add_line(e, "SKU-1", "coats", 350000, 1);
    loy_event_add_line(e, "GC-100", "gift_card", 10000, 1);
    loy_event_add_line(e, NULL, NULL, 1, 1);
    rc = loy_apply(p, m, e, r);
    FUZZ_CHECK(fz_is_known_code(rc), "order: code %d", rc);
    fz_check_result_json(r);

    size_t actions = loy_policy_count(p, LOY_KIND_ACTION);
    for (size_t i = 0; i < actions && i < 8; i++) {
        loy_event_reset(e, LOY_EVENT_ACTION, FZ_NEXT_ID(), "2026-02-09T10:00:00+08:00");
        loy_event_set_kind(e, loy_policy_id(p, LOY_KIND_ACTION, i));
        rc = loy_apply(p, m, e, r);
        FUZZ_CHECK(fz_is_known_code(rc), "action: code %d", rc);
    }
    size_t plans = loy_policy_count(p, LOY_KIND_PLAN);
    if (plans) {
        loy_event_reset(e, LOY_EVENT_JOIN_PAID, FZ_NEXT_ID(), "2026-02-10T10:00:00+08:00");
        loy_event_set_plan(e, loy_policy_id(p, LOY_KIND_PLAN, 0));
        rc = loy_apply(p, m, e, r);
        FUZZ_CHECK(fz_is_known_code(rc), "join: code %d", rc);
    }
    size_t benefits = loy_policy_count(p, LOY_KIND_BENEFIT);
    for (size_t i = 0; i < benefits && i < 8; i++) {
        loy_event_reset(e, LOY_EVENT_USE_BENEFIT, FZ_NEXT_ID(), "2026-03-01T14:30:00+08:00");
        loy_event_set_benefit(e, loy_policy_id(p, LOY_KIND_BENEFIT, i));
        rc = loy_apply(p, m, e, r);
        FUZZ_CHECK(fz_is_known_code(rc), "use: code %d", rc);
        fz_check_result_json(r);
    }
    loy_event_reset(e, LOY_EVENT_REDEEM, FZ_NEXT_ID(), "2026-03-02T10:00:00+08:00");
    loy_event_set_points(e, 100);
    loy_event_set_order_amount(e, 100000);
    rc = loy_apply(p, m, e, r);
    FUZZ_CHECK(fz_is_known_code(rc), "redeem: code %d", rc);

    loy_event_reset(e, LOY_EVENT_RETURN, FZ_NEXT_ID(), "2026-03-03T10:00:00+08:00");
    loy_event_set_amount(e, 100000);
    loy_event_set_original(e, "E-1", "2026-02-08T15:00:00+08:00", 360001, 5000);
    rc = loy_apply(p, m, e, r);
    FUZZ_CHECK(fz_is_known_code(rc), "return: code %d", rc);

    /* A year and more of time: reviews, expiry, plan ends, lifecycle. */
    loy_event_reset(e, LOY_EVENT_TICK, FZ_NEXT_ID(), "2028-03-01T00:00:00+08:00");
    rc = loy_apply(p, m, e, r);
    FUZZ_CHECK(fz_is_known_code(rc), "tick: code %d", rc);

    /* The query answers from entries built at load and reads the member
     * itself when step 2 is idle; the general path must say the same bytes,
     * after the last event (step 2 may run) and before it (it may not). */
    static const char *const query_at[] = {"2028-03-01T12:00:00+08:00", "2029-06-30T12:00:00+08:00",
                                           "2027-01-01T00:00:00+08:00"};
    loy_result *general = NULL;
    FUZZ_CHECK(loy_result_new(&general, p) == LOY_OK, "result");
    loy_result_set_options(general, LOY_RESULT_TRACE | LOY_RESULT_FINGERPRINT);
    for (size_t q = 0; q < sizeof query_at / sizeof query_at[0]; q++) {
        rc = loy_query_benefits(p, m, query_at[q], "pos", "S-1", r);
        FUZZ_CHECK(rc == LOY_OK || rc == LOY_E_NOMEM, "query: code %d", rc);
        fz_check_result_json(r);
        fz_check_member(p, m);
        int general_rc = loy_query_benefits_copied(p, m, query_at[q], "pos", "S-1", general);
        FUZZ_CHECK(general_rc == rc, "query %d, on a copy %d", rc, general_rc);
        char *a = fz_result_text(r), *b = fz_result_text(general);
        FUZZ_CHECK(strcmp(a, b) == 0, "the query and the query on a copy answer differently:\n  %s\n  %s", a, b);
        free(a);
        free(b);
    }
    loy_result_free(general);
#undef FZ_NEXT_ID

    loy_result_free(r);
    loy_event_free(e);
    loy_member_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    loy_policy *p = NULL;
    loy_diag *diag = NULL;
    int rc = loy_policy_load_buffer(&p, data, size, "fuzz.yaml", &diag);
    FUZZ_CHECK(rc == LOY_OK || rc == LOY_E_POLICY, "load returned %s", loy_error_name(rc));
    FUZZ_CHECK(diag != NULL, "no diag handle");
    size_t n = loy_diag_count(diag);
    if (rc == LOY_OK) {
        FUZZ_CHECK(p != NULL && n == 0, "loaded with %zu diagnostics", n);
        FUZZ_CHECK(loy_policy_fingerprint(p) == XXH3_64bits(data, size), "fingerprint is not XXH3 of the bytes");
    } else {
        FUZZ_CHECK(p == NULL && n >= 1, "refused with %zu diagnostics", n);
    }
    for (size_t i = 0; i < n; i++) {
        const char *msg = loy_diag_message(diag, i);
        FUZZ_CHECK(msg != NULL && msg[0] != '\0', "diagnostic %zu has no message", i);
        FUZZ_CHECK(loy_diag_line(diag, i) >= 1 && loy_diag_column(diag, i) >= 1,
                   "diagnostic %zu at %u:%u: %s", i, loy_diag_line(diag, i), loy_diag_column(diag, i), msg);
    }
    loy_diag_free(diag);
    if (p)
        fuzz_policy_drive(p);
    loy_policy_free(p);
    return 0;
}
