/*
 * Fuzz target: the member line of the wire format (loy_member_init_json,
 * POLICY.md §11.2), under each reference policy. A member line is either
 * accepted — the member keeps every invariant (fuzz_common.h) and its
 * bytes round-trip — or refused with LOY_E_JSON, LOY_E_INVALID_MEMBER,
 * LOY_E_UNKNOWN_TIER, LOY_E_UNKNOWN_PLAN or LOY_E_OVERFLOW and an error
 * object. Either way the result writes as valid JSON. An accepted member
 * then takes a tick, so imported state is evaluated as well as read.
 */
#include "fuzz_common.h"

static const int fuzz_member_policies[] = {FZ_APPAREL, FZ_GROCERY, FZ_MINIMAL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t k = 0; k < sizeof fuzz_member_policies / sizeof fuzz_member_policies[0]; k++) {
        const loy_policy *p = fz_policy(fuzz_member_policies[k]);
        loy_member *m = NULL;
        loy_result *r = NULL;
        FUZZ_CHECK(loy_member_create(&m, p) == LOY_OK && loy_result_new(&r, p) == LOY_OK, "create");
        int rc = loy_member_init_json(m, (const char *)data, size, r);
        FUZZ_CHECK(rc == LOY_OK || rc == LOY_E_JSON || rc == LOY_E_INVALID_MEMBER || rc == LOY_E_UNKNOWN_TIER ||
                       rc == LOY_E_UNKNOWN_PLAN || rc == LOY_E_OVERFLOW,
                   "member line: %s", loy_error_name(rc));
        FUZZ_CHECK(loy_result_code(r) == rc, "result code %d != returned %d", loy_result_code(r), rc);
        fz_check_result_json(r);
        if (rc == LOY_OK) {
            fz_check_member(p, m);
            static const char tick[] = "{\"type\": \"tick\", \"id\": \"T-1\", \"at\": \"2027-06-30T00:00:00+08:00\"}";
            fz_bytes before = fz_state(m);
            rc = loy_apply_json_line(p, m, tick, sizeof tick - 1, r);
            FUZZ_CHECK(fz_is_known_code(rc) && rc != LOY_E_NOMEM && rc != LOY_E_JSON, "tick: %s",
                       loy_error_name(rc));
            fz_check_result_json(r);
            if (rc != LOY_OK)
                fz_expect_state(m, &before, "a refused tick");
            fz_check_member(p, m);
            free(before.data);
        }
        loy_result_free(r);
        loy_member_free(m);
    }
    return 0;
}
