/*
 * Fuzz target: event and query lines of the wire format
 * (loy_apply_json_line, and loy_apply_json as its differential twin).
 *
 * Input: JSON lines. A first line that is an accepted member object
 * ({"member": ...}) makes the member; otherwise the member is G-FUZZ,
 * joined 2026-01-01, born 1990-11-20, and the first line is an event too.
 * The policy is apparel.yaml, or grocery.yaml when the input starts with
 * "#g" (the rest of that line is ignored).
 *
 * For every line: the call returns a known code; a refused line leaves the
 * state bytes as they were; an accepted one keeps every invariant
 * (fuzz_common.h). The one-call form loy_apply_json, given the bytes from
 * before the line, must answer exactly the same JSON and produce exactly
 * the same new bytes.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* lib/wire/wire.h (internal): loy_apply_json_line without its fast path,
 * which must answer every line exactly as this does. */
int loy_wire_apply_line_dom(const loy_policy *policy, loy_member *member, const char *json, size_t len,
                            loy_result *result);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *end = text + size;
    const loy_policy *p = fz_policy(FZ_APPAREL);
    if (size >= 2 && text[0] == '#' && text[1] == 'g') {
        p = fz_policy(FZ_GROCERY);
        const char *nl = memchr(text, '\n', size);
        text = nl ? nl + 1 : end;
    }

    loy_member *m = NULL, *dom_m = NULL;
    loy_result *r = NULL, *twin = NULL, *dom_r = NULL;
    FUZZ_CHECK(loy_member_create(&m, p) == LOY_OK && loy_result_new(&r, p) == LOY_OK &&
                   loy_result_new(&twin, p) == LOY_OK && loy_member_create(&dom_m, p) == LOY_OK &&
                   loy_result_new(&dom_r, p) == LOY_OK,
               "create");
    const char *nl = memchr(text, '\n', (size_t)(end - text));
    const char *first_end = nl ? nl : end;
    if (loy_member_init_json(m, text, (size_t)(first_end - text), r) == LOY_OK) {
        text = nl ? nl + 1 : end;
    } else {
        loy_member_free(m);
        m = NULL;
        FUZZ_CHECK(loy_member_new(&m, p, "G-FUZZ", "2026-01-01") == LOY_OK, "member_new");
        FUZZ_CHECK(loy_member_set_birthday(m, "1990-11-20") == LOY_OK, "set_birthday");
    }
    fz_check_member(p, m);

    int lines = 0;
    while (text < end && lines < 200) {
        nl = memchr(text, '\n', (size_t)(end - text));
        const char *line_end = nl ? nl : end;
        size_t len = (size_t)(line_end - text);
        lines++;

        fz_bytes before = fz_state(m);
        FUZZ_CHECK(loy_member_load(dom_m, before.data, before.len) == LOY_OK, "load the DOM twin");
        int dom_rc = loy_wire_apply_line_dom(p, dom_m, text, len, dom_r);
        int rc = loy_apply_json_line(p, m, text, len, r);
        FUZZ_CHECK(fz_is_known_code(rc) && rc != LOY_E_NOMEM, "line %d: code %d", lines, rc);
        FUZZ_CHECK(loy_result_code(r) == rc, "result code %d != returned %d", loy_result_code(r), rc);
        fz_check_result_json(r);
        if (rc != LOY_OK)
            fz_expect_state(m, &before, "a refused line");
        else
            fz_check_member(p, m);

        {
            FUZZ_CHECK(dom_rc == rc, "line %d: the DOM path says %s, the fast path %s", lines,
                       loy_error_name(dom_rc), loy_error_name(rc));
            char *a = fz_result_text(r), *b = fz_result_text(dom_r);
            FUZZ_CHECK(strcmp(a, b) == 0, "line %d: the fast and DOM paths answer differently:\n  %s\n  %s",
                       lines, a, b);
            free(a);
            free(b);
            fz_bytes x = fz_state(m), y = fz_state(dom_m);
            FUZZ_CHECK(x.len == y.len && memcmp(x.data, y.data, x.len) == 0,
                       "line %d: the fast and DOM paths leave different states", lines);
            free(x.data);
            free(y.data);
        }
        int twin_rc = loy_apply_json(p, before.data, before.len, text, len, twin);
        FUZZ_CHECK(twin_rc == rc, "line %d: loy_apply_json says %s, loy_apply_json_line %s", lines,
                   loy_error_name(twin_rc), loy_error_name(rc));
        char *a = fz_result_text(r), *b = fz_result_text(twin);
        FUZZ_CHECK(strcmp(a, b) == 0, "line %d: the two JSON entry points answer differently:\n  %s\n  %s", lines, a,
                   b);
        free(a);
        free(b);
        size_t state_len = 0;
        const void *state = loy_result_state(twin, &state_len);
        FUZZ_CHECK(state != NULL, "loy_apply_json kept no state");
        fz_bytes now = fz_state(m);
        FUZZ_CHECK(state_len == now.len && memcmp(state, now.data, now.len) == 0,
                   "line %d: loy_apply_json's new state differs from the member's", lines);
        free(now.data);
        free(before.data);
        text = nl ? nl + 1 : end;
    }
    loy_result_free(twin);
    loy_result_free(r);
    loy_result_free(dom_r);
    loy_member_free(m);
    loy_member_free(dom_m);
    return 0;
}
