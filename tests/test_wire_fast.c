/*
 * The event line's fast decoder (lib/wire/event_json.c) against the DOM
 * path it stands in for: every line, handcrafted or mutated, must give the
 * same return code, the same answer JSON and the same member state through
 * loy_apply_json_line as through the DOM path alone. The fast decoder
 * gives up on whatever it does not handle, so this also tests that every
 * line it gives up on is answered exactly as before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loyalty.h"

#define APPAREL LOY_SPEC_DIR "/policies/apparel.yaml"
#define GROCERY LOY_SPEC_DIR "/policies/grocery.yaml"

/* lib/wire/wire.h (internal): loy_apply_json_line without the fast path. */
int loy_wire_apply_line_dom(const loy_policy *policy, loy_member *member, const char *json, size_t len,
                            loy_result *result);

typedef struct twin {
    loy_policy *p;
    loy_member *fast, *dom;
    loy_result *rf, *rd;
    void *start;
    size_t start_len;
    size_t checked;
} twin;

static const char member_line[] =
    "{\"member\": {\"id\": \"M-F\", \"joined\": \"2025-03-01\", \"birthday\": \"1990-11-20\", "
    "\"tier\": \"silver\", \"tier_since\": \"2025-09-01\", \"points\": [{\"points\": 900}], "
    "\"spend_by_month\": {\"2026-10\": 80000}, \"orders\": 3, \"last_order\": \"2026-10-30\"}}";

static void twin_open(twin *t, const char *policy_path)
{
    memset(t, 0, sizeof *t);
    loy_diag *diag = NULL;
    if (loy_policy_load_file(&t->p, policy_path, &diag) != LOY_OK)
        fail_msg("%s does not load", policy_path);
    loy_diag_free(diag);
    assert_int_equal(loy_member_create(&t->fast, t->p), LOY_OK);
    assert_int_equal(loy_member_create(&t->dom, t->p), LOY_OK);
    assert_int_equal(loy_result_new(&t->rf, t->p), LOY_OK);
    assert_int_equal(loy_result_new(&t->rd, t->p), LOY_OK);
    assert_int_equal(loy_member_init_json(t->fast, member_line, sizeof member_line - 1, t->rf), LOY_OK);
    const void *bytes;
    size_t len;
    assert_int_equal(loy_member_to_bytes(t->fast, &bytes, &len), LOY_OK);
    t->start = malloc(len ? len : 1);
    assert_non_null(t->start);
    memcpy(t->start, bytes, len);
    t->start_len = len;
}

static void twin_close(twin *t)
{
    free(t->start);
    loy_result_free(t->rf);
    loy_result_free(t->rd);
    loy_member_free(t->fast);
    loy_member_free(t->dom);
    loy_policy_free(t->p);
}

static char *state_copy(loy_member *m, size_t *len)
{
    const void *bytes;
    assert_int_equal(loy_member_to_bytes(m, &bytes, len), LOY_OK);
    char *copy = malloc(*len ? *len : 1);
    assert_non_null(copy);
    memcpy(copy, bytes, *len);
    return copy;
}

/* One line both ways, from the same state; `fresh` starts from the member
 * line's state, else each side goes on from where it is. */
static void both(twin *t, const char *line, size_t len, bool fresh)
{
    if (fresh) {
        assert_int_equal(loy_member_load(t->fast, t->start, t->start_len), LOY_OK);
        assert_int_equal(loy_member_load(t->dom, t->start, t->start_len), LOY_OK);
    }
    /* An exactly sized copy: a read past the line's end is ASan's to see. */
    char *exact = malloc(len ? len : 1);
    assert_non_null(exact);
    memcpy(exact, line, len);
    int rc_fast = loy_apply_json_line(t->p, t->fast, exact, len, t->rf);
    int rc_dom = loy_wire_apply_line_dom(t->p, t->dom, exact, len, t->rd);
    free(exact);
    size_t jf_len = 0, jd_len = 0;
    const char *jf = loy_result_json(t->rf, &jf_len);
    const char *jd = loy_result_json(t->rd, &jd_len);
    assert_non_null(jf);
    assert_non_null(jd);
    if (rc_fast != rc_dom || jf_len != jd_len || memcmp(jf, jd, jf_len) != 0)
        fail_msg("line %.*s\n  fast (%s): %.*s\n  dom  (%s): %.*s", (int)len, line, loy_error_name(rc_fast),
                 (int)jf_len, jf, loy_error_name(rc_dom), (int)jd_len, jd);
    size_t sf_len, sd_len;
    char *sf = state_copy(t->fast, &sf_len), *sd = state_copy(t->dom, &sd_len);
    if (sf_len != sd_len || memcmp(sf, sd, sf_len) != 0)
        fail_msg("line %.*s: the states differ", (int)len, line);
    free(sf);
    free(sd);
    t->checked++;
}

static void both_str(twin *t, const char *line)
{
    both(t, line, strlen(line), true);
}

/* Lines the fast decoder takes, and lines next to them it must give up on. */
static const char *const lines[] = {
    /* taken */
    "{\"type\":\"order\",\"id\":\"O-1\",\"at\":\"2026-11-11T20:15:00+08:00\",\"channel\":\"pos\",\"lines\":[{\"sku\":\"SKU-1\",\"category\":\"coats\",\"amount\":129900,\"qty\":1},{\"sku\":\"GC\",\"category\":\"gift_card\",\"amount\":100}]}",
    "{\"type\": \"order\", \"id\": \"O-2\", \"at\": \"2026-11-11T20:15:00+08:00\", \"store\": \"GZ-001\", \"savings\": 1500, \"lines\": [{\"sku\": \"A\", \"amount\": 5000, \"qty\": 3}]}",
    " \t{ \"lines\" : [ { \"amount\" : 100 , \"category\" : \"tops\" } ] , \"at\" : \"2026-11-11T20:15:00+08:00\" , \"id\" : \"O-3\" , \"type\" : \"order\" } \r\n",
    "{\"type\":\"order\",\"id\":\"O-4\",\"at\":\"2026-11-11T20:15:00+08:00\"}",
    "{\"type\":\"order\",\"id\":\"O-5\",\"at\":\"2026-11-11T20:15:00+08:00\",\"lines\":[]}",
    "{\"type\":\"order\",\"id\":\"订单-6\",\"at\":\"2026-11-11T20:15:00+08:00\",\"channel\":\"小程序\",\"lines\":[{\"sku\":\"外套\",\"category\":\"coats\",\"amount\":9900}]}",
    "{\"type\":\"order\",\"id\":\"O-7\",\"at\":\"2026-11-11T20:15:00+08:00\",\"extra\":{\"a\":[1,2.5,-3e4,true,false,null,{\"b\":\"c\"}]},\"lines\":[{\"amount\":100,\"note\":[[]]}]}",
    "{\"type\":\"order\",\"id\":\"O-8\",\"id\":\"O-8b\",\"at\":\"2026-11-11T20:15:00+08:00\",\"lines\":[{\"amount\":100,\"amount\":7}],\"lines\":5}",
    "{\"type\":\"return\",\"id\":\"R-1\",\"at\":\"2026-11-12T10:00:00+08:00\",\"amount\":50000,\"original\":{\"id\":\"O-0\",\"at\":\"2026-11-01T09:00:00+08:00\",\"amount\":100000,\"points\":1000}}",
    "{\"type\":\"return\",\"id\":\"R-2\",\"at\":\"2026-11-12T10:00:00+08:00\",\"amount\":500,\"original\":{\"id\":\"O-0\",\"at\":\"\",\"amount\":1000,\"points\":10,\"x\":{}},\"lines\":[{\"sku\":\"S\",\"amount\":500}]}",
    "{\"type\":\"action\",\"id\":\"A-1\",\"at\":\"2026-11-11T23:00:00+08:00\",\"kind\":\"review\"}",
    "{\"type\":\"action\",\"id\":\"A-2\",\"at\":\"2026-11-11T23:00:00+08:00\",\"kind\":\"nope\"}",
    "{\"type\":\"redeem\",\"id\":\"X-1\",\"at\":\"2026-11-11T20:18:00+08:00\",\"points\":500,\"order_amount\":200000}",
    "{\"type\":\"redeem\",\"id\":\"X-2\",\"at\":\"2026-11-11T20:18:00+08:00\",\"points\":999999999999999999,\"order_amount\":0}",
    "{\"type\":\"use_benefit\",\"id\":\"U-1\",\"at\":\"2026-11-11T20:17:00+08:00\",\"benefit\":\"designer-salon\"}",
    "{\"type\":\"join_paid\",\"id\":\"J-1\",\"at\":\"2026-11-11T20:17:00+08:00\",\"plan\":\"annual\"}",
    "{\"type\":\"profile\",\"id\":\"P-1\",\"at\":\"2026-11-11T20:17:00+08:00\",\"birthday\":\"1991-02-03\",\"tags\":[\"employee\",\"vip\"]}",
    "{\"type\":\"profile\",\"id\":\"P-2\",\"at\":\"2026-11-11T20:17:00+08:00\",\"birthday\":null}",
    "{\"type\":\"profile\",\"id\":\"P-3\",\"at\":\"2026-11-11T20:17:00+08:00\",\"tags\":[]}",
    "{\"type\":\"profile\",\"id\":\"P-4\",\"at\":\"2026-11-11T20:17:00+08:00\",\"birthday\":\"\"}",
    "{\"type\":\"tick\",\"id\":\"T-1\",\"at\":\"2027-06-01T00:00:00+08:00\"}",
    "{\"type\":\"tick\",\"id\":\"T-2\",\"at\":\"not a date\"}",
    /* given up on */
    "{\"type\":\"order\",\"id\":\"O-\\u0031\",\"at\":\"2026-11-11T20:15:00+08:00\"}",
    "{\"type\":\"ord\\u0065r\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\"}",
    "{\"\\u0074ype\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\"}",
    "{\"type\":\"order\",\"id\":\"O-9\\u0000x\",\"at\":\"2026-11-11T20:15:00+08:00\"}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"savings\":-0}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"savings\":-1}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"savings\":1.0}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"savings\":1e2}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"savings\":9223372036854775807}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"savings\":9223372036854775808}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"savings\":-99999999999999999999}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"savings\":01}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"savings\":\"1\"}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"lines\":{}}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"lines\":[1]}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"lines\":[{\"amount\":1},null]}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"lines\":[{\"qty\":1}]}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"lines\":[{\"amount\":1,\"sku\":\"\"}]}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"lines\":[{\"amount\":1,\"category\":3}]}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"lines\":[{\"amount\":1,\"qty\":0.5}]}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"channel\":\"\"}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\",\"store\":null}",
    "{\"type\":\"order\",\"id\":\"\",\"at\":\"2026-11-11T20:15:00+08:00\"}",
    "{\"type\":\"order\",\"id\":7,\"at\":\"2026-11-11T20:15:00+08:00\"}",
    "{\"type\":\"order\",\"at\":\"2026-11-11T20:15:00+08:00\"}",
    "{\"type\":\"order\",\"id\":\"O-9\"}",
    "{\"type\":\"order\",\"id\":\"O-9\",\"at\":5}",
    "{\"type\":\"orders\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\"}",
    "{\"type\":\"\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\"}",
    "{\"type\":1,\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\"}",
    "{\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\"}",
    "{\"member\":{\"id\":\"M\"},\"at\":\"2026-11-11T20:15:00+08:00\"}",
    "{\"query\":\"benefits\",\"at\":\"2026-11-11T20:16:00+08:00\",\"channel\":\"pos\"}",
    "{\"type\":\"order\",\"query\":\"benefits\",\"id\":\"O-9\",\"at\":\"2026-11-11T20:15:00+08:00\"}",
    "{\"type\":\"return\",\"id\":\"R-9\",\"at\":\"2026-11-12T10:00:00+08:00\",\"amount\":5}",
    "{\"type\":\"return\",\"id\":\"R-9\",\"at\":\"2026-11-12T10:00:00+08:00\",\"amount\":5,\"original\":[]}",
    "{\"type\":\"return\",\"id\":\"R-9\",\"at\":\"2026-11-12T10:00:00+08:00\",\"amount\":5,\"original\":{\"id\":\"O\",\"at\":\"x\",\"amount\":1}}",
    "{\"type\":\"return\",\"id\":\"R-9\",\"at\":\"2026-11-12T10:00:00+08:00\",\"original\":{\"id\":\"O\",\"at\":\"x\",\"amount\":1,\"points\":1}}",
    "{\"type\":\"action\",\"id\":\"A-9\",\"at\":\"2026-11-11T23:00:00+08:00\"}",
    "{\"type\":\"action\",\"id\":\"A-9\",\"at\":\"2026-11-11T23:00:00+08:00\",\"kind\":\"\"}",
    "{\"type\":\"redeem\",\"id\":\"X-9\",\"at\":\"2026-11-11T20:18:00+08:00\",\"points\":5}",
    "{\"type\":\"use_benefit\",\"id\":\"U-9\",\"at\":\"2026-11-11T20:17:00+08:00\",\"benefit\":[]}",
    "{\"type\":\"join_paid\",\"id\":\"J-9\",\"at\":\"2026-11-11T20:17:00+08:00\"}",
    "{\"type\":\"use_benefit\",\"id\":\"U-8\",\"at\":\"2026-11-11T20:17:00+08:00\",\"benefit\":\"\"}",
    "{\"type\":\"join_paid\",\"id\":\"J-8\",\"at\":\"2026-11-11T20:17:00+08:00\",\"plan\":\"\"}",
    "{\"type\":\"profile\",\"id\":\"P-9\",\"at\":\"2026-11-11T20:17:00+08:00\"}",
    "{\"type\":\"profile\",\"id\":\"P-9\",\"at\":\"2026-11-11T20:17:00+08:00\",\"birthday\":5}",
    "{\"type\":\"profile\",\"id\":\"P-9\",\"at\":\"2026-11-11T20:17:00+08:00\",\"tags\":[\"a\",\"\"]}",
    "{\"type\":\"profile\",\"id\":\"P-9\",\"at\":\"2026-11-11T20:17:00+08:00\",\"tags\":\"a\"}",
    "{\"type\":\"tick\",\"id\":\"T-9\",\"at\":\"2027-06-01T00:00:00+08:00\"} x",
    "{\"type\":\"tick\",\"id\":\"T-9\",\"at\":\"2027-06-01T00:00:00+08:00\",}",
    "{\"type\":\"tick\",\"id\":\"T-9\",\"at\":\"2027-06-01T00:00:00+08:00\"",
    "{\"type\":\"tick\",\"id\":\"T-9\",\"at\":\"2027-06-01\tT00:00:00+08:00\"}",
    "{\"type\":\"tick\",\"id\":\"T-\xff\",\"at\":\"2027-06-01T00:00:00+08:00\"}",
    "{\"type\":\"tick\",\"id\":\"T-\xc3\",\"at\":\"2027-06-01T00:00:00+08:00\"}",
    "{\"type\":\"tick\",\"id\":\"T-\xed\xa0\x80\",\"at\":\"2027-06-01T00:00:00+08:00\"}",
    "{\"type\":\"tick\",\"id\":\"T-9\",\"at\":\"2027-06-01T00:00:00+08:00\",\"x\":tru}",
    "{\"type\":\"tick\",\"id\":\"T-9\",\"at\":\"2027-06-01T00:00:00+08:00\",\"x\":truex}",
    "{\"type\":\"tick\",\"id\":\"T-9\",\"at\":\"2027-06-01T00:00:00+08:00\",\"x\":[1,]}",
    "{\"type\":\"tick\",\"id\":\"T-9\",\"at\":\"2027-06-01T00:00:00+08:00\",\"\":1}",
    "[\"type\",\"tick\"]",
    "\"tick\"",
    "",
    "   ",
    "{}",
    NULL,
};

/* Lines in the spelling most writers use (", " and ": "), whose keys the
 * decoder expects in a usual order ("type", "id", "at", "channel",
 * "lines"; a line's "sku", "category", "amount", "qty"), and the spellings
 * and orders next to them that it must read the general way or give up on. */
static const char *const spaced[] = {
    "{\"type\": \"order\", \"id\": \"E-0\", \"at\": \"2026-01-06T02:44:04+08:00\", \"channel\": \"pos\", \"lines\": [{\"sku\": \"GIFT_CARD-94\", \"category\": \"gift_card\", \"amount\": 10992, \"qty\": 3}, {\"sku\": \"DRESSES-20\", \"category\": \"dresses\", \"amount\": 64691, \"qty\": 3}], \"savings\": 1103}",
    "{\"type\": \"order\", \"id\": \"E-18\", \"at\": \"2026-11-22T05:46:39+08:00\", \"channel\": \"pos\", \"lines\": [{\"sku\": \"SHIPPING-70\", \"category\": \"shipping\", \"amount\": 1371, \"qty\": 3}], \"store\": \"S-034\", \"savings\": 808}",
    "{\"type\": \"action\", \"id\": \"E-1\", \"at\": \"2026-02-28T11:50:48+08:00\", \"kind\": \"review\"}",
    "{\"type\": \"tick\", \"id\": \"E-2\", \"at\": \"2026-03-16T11:11:04+08:00\"}",
    "{\"type\": \"return\", \"id\": \"E-3\", \"at\": \"2026-04-01T01:40:11+08:00\", \"amount\": 500, \"original\": {\"id\": \"E-0\", \"at\": \"2026-01-06T02:44:04+08:00\", \"amount\": 10992, \"points\": 10}, \"lines\": [{\"sku\": \"GIFT_CARD-94\", \"category\": \"gift_card\", \"amount\": 500}]}",
    "{\"type\": \"redeem\", \"id\": \"E-4\", \"at\": \"2026-04-02T00:07:22+08:00\", \"points\": 100, \"order_amount\": 20000}",
    "{\"type\": \"order\", \"id\": \"E-5\", \"at\": \"2026-04-02T00:07:22+08:00\", \"channel\": \"app\", \"lines\": [{\"category\": \"coats\", \"sku\": \"C-1\", \"qty\": 2, \"amount\": 900}, {\"amount\": 100}, {\"sku\": \"S\", \"amount\": 7, \"category\": \"tees\"}]}",
    /* the expected keys spelled or placed otherwise */
    "{\"type\":  \"tick\", \"id\":  \"E-6\", \"at\":  \"2026-03-16T11:11:04+08:00\"}",
    "{\"type\" : \"tick\" , \"id\" : \"E-6\" , \"at\" : \"2026-03-16T11:11:04+08:00\" }",
    "{ \"type\": \"tick\", \"id\": \"E-6\",\"at\": \"2026-03-16T11:11:04+08:00\"}",
    "{\"type\": \"tick\",  \"id\": \"E-6\", \"at\":\t\"2026-03-16T11:11:04+08:00\"}",
    "{\"types\": \"tick\", \"type\": \"tick\", \"ids\": \"X\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\"}",
    "{\"type\": \"tick\", \"type\": \"order\", \"id\": \"E-6\", \"id\": \"E-7\", \"at\": \"2026-03-16T11:11:04+08:00\", \"at\": \"x\"}",
    "{\"type\": \"order\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", \"channel\": \"pos\", \"channel\": \"app\", \"lines\": [], \"lines\": [{\"amount\": 1}]}",
    "{\"type\": \"order\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", \"channel\": \"pos\", \"lines\": [{\"sku\": \"A\", \"sku\": \"B\", \"category\": \"x\", \"category\": \"y\", \"amount\": 1, \"amount\": 2, \"qty\": 1, \"qty\": 2}]}",
    "{\"type\": \"order\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", \"channel\": \"pos\", \"lines\": [{\"skus\": \"A\", \"sku\": \"B\", \"categorys\": 1, \"amounts\": 2, \"amount\": 3, \"qtys\": 4}]}",
    "{\"type\": \"order\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", \"channel\": \"pos\", \"lines\": [{\"sku\": 5, \"category\": \"x\", \"amount\": 1}]}",
    "{\"type\": \"order\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", \"channel\": \"pos\", \"lines\": [{\"sku\": \"A\", \"category\": \"x\", \"amount\": 1, \"qty\": 2.5}]}",
    "{\"type\": \"order\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", \"channel\": \"pos\", \"lines\": [{\"sku\": \"A\", \"category\": \"x\", \"amount\": -1, \"qty\": 2}]}",
    "{\"type\": \"order\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", \"channel\": \"pos\", \"lines\": [{\"sku\": \"A\\u0042\", \"category\": \"x\", \"amount\": 1}]}",
    "{\"type\": \"order\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", \"channel\": \"pos\", \"lines\": [{\"sku\":\"A\", \"category\":\"x\", \"amount\":1, \"qty\":2}]}",
    "{\"type\": \"order\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", \"channel\": \"pos\", \"lines\": {}}",
    "{\"type\": \"order\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", \"channel\": \"pos\", \"lines\": 5}",
    "{\"type\": \"order\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", \"channel\": \"pos\", \"lines\": [1]}",
    "{\"type\": \"order\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", \"channel\": \"\", \"lines\": []}",
    "{\"type\": \"order\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", \"channel\": null, \"lines\": []}",
    "{\"type\": \"tick\", \"id\": \"E-6\", \"at\": null}",
    "{\"type\": \"tick\", \"id\": 6, \"at\": \"2026-03-16T11:11:04+08:00\"}",
    "{\"type\": 1, \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\"}",
    "{\"type\": \"tick\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", \"query\": \"benefits\"}",
    "{\"type\": \"tick\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", \"member\": {}}",
    "{\"type\": \"tick\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", \"member_id\": \"M-F\"}",
    "{\"type\": \"tick\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\"}  ",
    "{\"type\": \"tick\", \"id\": \"E-6\", \"at\": \"2026-03-16T11:11:04+08:00\", }",
    "{\"type\": ",
    "{\"type\": \"tick\", \"id\": ",
    /* the compact spelling, mixed spellings, and their near misses */
    "{\"type\":\"order\",\"id\":\"H-O0\",\"at\":\"2026-12-22T17:30:00+08:00\",\"channel\":\"pos\",\"lines\":[{\"sku\":\"SKU-415\",\"category\":\"dresses\",\"amount\":5200,\"qty\":1},{\"sku\":\"SKU-231\",\"category\":\"tops\",\"amount\":13700,\"qty\":1}]}",
    "{\"type\":\"tick\",\"id\": \"E-6\",\"at\" :\"2026-03-16T11:11:04+08:00\"}",
    "{\"type\": \"tick\",\"id\":\"E-6\", \"at\":\"2026-03-16T11:11:04+08:00\"}",
    "{\"type\":\"tick\" ,\"id\":\"E-6\",\"at\":  \"2026-03-16T11:11:04+08:00\"}",
    "{\"type\":\"tick\",\"ids\":\"X\",\"id\":\"E-6\",\"at\":\"2026-03-16T11:11:04+08:00\"}",
    "{\"type\":\"order\",\"id\":\"E-6\",\"at\":\"2026-03-16T11:11:04+08:00\",\"channel\":\"pos\",\"lines\":[{\"sku\":\"A\",\"category\":\"x\",\"amount\":1,\"qty\":2,\"qty\":3},{\"category\":\"y\",\"sku\":\"B\",\"amount\":2}]}",
    "{\"type\":\"order\",\"id\":\"E-6\",\"at\":\"2026-03-16T11:11:04+08:00\",\"channel\":\"pos\",\"lines\":[{\"sku\":\"A\",\"category\":\"x\",\"amount\":01,\"qty\":2}]}",
    "{\"type\":\"order\",\"id\":\"E-6\",\"at\":\"2026-03-16T11:11:04+08:00\",\"channel\":\"pos\",\"lines\":[{\"sku\":\"A\",\"category\":\"x\",\"amount\":1,\"qty\":2}\n]}",
    /* benefits queries, which the fast decoder takes too */
    "{\"query\": \"benefits\", \"at\": \"2026-08-02T21:41:05+08:00\", \"channel\": \"douyin\"}",
    "{\"query\": \"benefits\", \"at\": \"2026-08-02T21:41:05+08:00\"}",
    "{\"query\":\"benefits\",\"at\":\"2026-08-02T21:41:05+08:00\",\"store\":\"S-1\",\"channel\":\"tmall\",\"x\":[1,{}]}",
    "{\"at\": \"2026-08-02T21:41:05+08:00\", \"query\": \"benefits\", \"query\": 5, \"at\": 7}",
    "{\"query\": \"benefits\", \"type\": \"tick\", \"id\": \"Q-1\", \"at\": \"2026-08-02T21:41:05+08:00\", \"member_id\": \"M-F\"}",
    "{\"query\": \"benefits\", \"at\": \"2026-08-02T21:41:05+08:00\", \"member\": {\"id\": \"M\"}}",
    "{\"query\": \"benefit\", \"at\": \"2026-08-02T21:41:05+08:00\"}",
    "{\"query\": \"benefitss\", \"at\": \"2026-08-02T21:41:05+08:00\"}",
    "{\"query\": \"bene\\u0066its\", \"at\": \"2026-08-02T21:41:05+08:00\"}",
    "{\"query\": 1, \"at\": \"2026-08-02T21:41:05+08:00\"}",
    "{\"query\": null, \"at\": \"2026-08-02T21:41:05+08:00\"}",
    "{\"query\": \"benefits\"}",
    "{\"query\": \"benefits\", \"at\": null}",
    "{\"query\": \"benefits\", \"at\": \"\"}",
    "{\"query\": \"benefits\", \"at\": \"not a date\"}",
    "{\"query\": \"benefits\", \"at\": \"2026-02-30T10:00:00+08:00\"}",
    "{\"query\": \"benefits\", \"at\": \"2026-08-02T21:41:05\"}",
    "{\"query\": \"benefits\", \"at\": \"2026-08-02T21:41:05+08:00\", \"channel\": \"\"}",
    "{\"query\": \"benefits\", \"at\": \"2026-08-02T21:41:05+08:00\", \"channel\": 5}",
    "{\"query\": \"benefits\", \"at\": \"2026-08-02T21:41:05+08:00\", \"store\": null}",
    "{\"query\": \"benefits\", \"at\": \"2026-08-02T21:41:05+08:00\", \"channel\": \"p\\u006fs\"}",
    "{\"query\": \"benefits\", \"at\": \"2026-08-02T21:41:05+08:00\"} x",
    "{\"query\": \"benefits\", \"at\": \"2026-08-02T21:41:05+08:00\"",
    NULL,
};

static void handcrafted(void **state)
{
    (void)state;
    twin t;
    twin_open(&t, APPAREL);
    for (size_t i = 0; lines[i]; i++)
        both_str(&t, lines[i]);
    /* A raw NUL inside the text, and a line cut short at every byte. */
    static const char with_nul[] = "{\"type\":\"tick\",\"id\":\"T-\0\",\"at\":\"2027-06-01T00:00:00+08:00\"}";
    both(&t, with_nul, sizeof with_nul - 1, true);
    for (size_t cut = 0; cut <= strlen(lines[0]); cut++)
        both(&t, lines[0], cut, true);
    for (size_t i = 0; spaced[i]; i++)
        both_str(&t, spaced[i]);
    /* Cut short at every byte: the expected keys' bytes end anywhere. */
    for (size_t i = 0; spaced[i]; i++)
        if (i < 5 || strncmp(spaced[i], "{\"type\":\"order\",\"id\":\"H-O0\"", 30) == 0)
            for (size_t cut = 0; cut <= strlen(spaced[i]); cut++)
                both(&t, spaced[i], cut, true);
    twin_close(&t);
}

/* Deep nesting around the reader's limit, and more lines than the fast
 * decoder notes. */
static void limits(void **state)
{
    (void)state;
    twin t;
    twin_open(&t, APPAREL);
    for (int depth = 60; depth <= 66; depth++) {
        char buf[512];
        int n = snprintf(buf, sizeof buf, "{\"type\":\"tick\",\"id\":\"T-D\",\"at\":\"2027-06-01T00:00:00+08:00\",\"x\":");
        for (int i = 0; i < depth - 1; i++)
            buf[n++] = '[';
        for (int i = 0; i < depth - 1; i++)
            buf[n++] = ']';
        buf[n++] = '}';
        both(&t, buf, (size_t)n, true);
    }
    for (int count = 62; count <= 70; count++) {
        char *buf = malloc(64 * 100 + 200);
        assert_non_null(buf);
        int n = sprintf(buf, "{\"type\":\"order\",\"id\":\"O-L%d\",\"at\":\"2026-11-11T20:15:00+08:00\",\"lines\":[", count);
        for (int i = 0; i < count; i++)
            n += sprintf(buf + n, "%s{\"sku\":\"S%d\",\"amount\":%d}", i ? "," : "", i, 100 + i);
        n += sprintf(buf + n, "]}");
        both(&t, buf, (size_t)n, true);
        free(buf);
    }
    twin_close(&t);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

/* Each taken line, mutated a byte or a few at a time: inserted, deleted or
 * replaced with a byte that matters to JSON. */
static void mutations(void **state)
{
    (void)state;
    static const char alphabet[] = "{}[],:\"\\ \t\n0123456789-+.eEtruefalsn_aqyidkx\xc3\xa9\xff";
    twin t;
    twin_open(&t, APPAREL);
    uint64_t seed = 0x9E3779B97F4A7C15u;
    char buf[1024];
    /* The first 22 handcrafted lines, the first 7 spaced ones, and the
     * first 3 queries. */
    size_t queries = 0;
    while (strncmp(spaced[queries], "{\"query\"", 8) != 0)
        queries++;
    for (size_t i = 0; i < 22 + 7 + 3; i++) {
        const char *line = i < 22 ? lines[i] : i < 22 + 7 ? spaced[i - 22] : spaced[queries + i - 29];
        size_t base = strlen(line);
        for (int k = 0; k < 300; k++) {
            memcpy(buf, line, base);
            size_t len = base;
            int edits = 1 + (int)(rng_next(&seed) % 3);
            for (int e = 0; e < edits && len > 0 && len < sizeof buf - 8; e++) {
                size_t at = (size_t)(rng_next(&seed) % len);
                char c = alphabet[rng_next(&seed) % (sizeof alphabet - 1)];
                switch (rng_next(&seed) % 3) {
                case 0:
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = c;
                    len++;
                    break;
                case 1:
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                    break;
                default:
                    buf[at] = c;
                    break;
                }
            }
            both(&t, buf, len, true);
        }
    }
    twin_close(&t);
}

/* A member's run of lines, each side going on from its own state (ids
 * repeat, so duplicates are refused alike too), under both policies. */
static void runs(void **state)
{
    (void)state;
    const char *policies[] = {APPAREL, GROCERY};
    for (size_t p = 0; p < 2; p++) {
        twin t;
        twin_open(&t, policies[p]);
        assert_int_equal(loy_member_load(t.fast, t.start, t.start_len), LOY_OK);
        assert_int_equal(loy_member_load(t.dom, t.start, t.start_len), LOY_OK);
        for (int round = 0; round < 2; round++) {
            for (size_t i = 0; lines[i]; i++)
                both(&t, lines[i], strlen(lines[i]), false);
            for (size_t i = 0; spaced[i]; i++)
                both(&t, spaced[i], strlen(spaced[i]), false);
        }
        twin_close(&t);
    }
}

/* A query the engine refuses without an answer tree (a member that was
 * never made): the fast decoder gives it up, and the DOM path words it. */
static void query_without_member(void **state)
{
    (void)state;
    twin t;
    twin_open(&t, APPAREL);
    loy_member *fast = NULL, *dom = NULL;
    assert_int_equal(loy_member_create(&fast, t.p), LOY_OK);
    assert_int_equal(loy_member_create(&dom, t.p), LOY_OK);
    static const char line[] = "{\"query\": \"benefits\", \"at\": \"2026-08-02T21:41:05+08:00\"}";
    int rc_fast = loy_apply_json_line(t.p, fast, line, sizeof line - 1, t.rf);
    int rc_dom = loy_wire_apply_line_dom(t.p, dom, line, sizeof line - 1, t.rd);
    assert_int_equal(rc_fast, rc_dom);
    assert_int_not_equal(rc_fast, LOY_OK);
    size_t jf_len = 0, jd_len = 0;
    const char *jf = loy_result_json(t.rf, &jf_len);
    const char *jd = loy_result_json(t.rd, &jd_len);
    assert_non_null(jf);
    assert_non_null(jd);
    assert_int_equal(jf_len, jd_len);
    assert_memory_equal(jf, jd, jf_len);
    assert_non_null(strstr(jf, "\"query\""));
    loy_member_free(fast);
    loy_member_free(dom);
    twin_close(&t);
}

/* Numbers of 1 to 20 digits (the reader takes up to 7 from one word,
 * more in its loop, and leaves fractions, exponents and 19+ digits to
 * f_number) in every numeric field, followed by every kind of byte, with
 * the line ending right after them or not. */
static void numbers_of_every_length(void **state)
{
    (void)state;
    twin t;
    twin_open(&t, APPAREL);
    static const char *const follow[] = {"", ",", "}", " ", ".5", "e2", "E", "x", "\"", "]", "-"};
    uint64_t r = 12345;
    char num[32], line[512];
    for (int digits = 1; digits <= 20; digits++) {
        for (int lead = 0; lead < 3; lead++) {
            for (size_t f = 0; f < sizeof follow / sizeof follow[0]; f++) {
                for (int k = 0; k < digits; k++) {
                    r = r * 6364136223846793005u + 1442695040888963407u;
                    num[k] = (char)('0' + (r >> 33) % 10);
                }
                num[0] = lead == 0 ? '0' : lead == 1 ? '9' : (char)('1' + (r >> 40) % 9);
                num[digits] = 0;
                snprintf(line, sizeof line,
                         "{\"type\":\"order\",\"id\":\"N-1\",\"at\":\"2026-11-11T20:15:00+08:00\","
                         "\"lines\":[{\"sku\":\"S\",\"category\":\"coats\",\"amount\":%s%s,\"qty\":%s%s}],"
                         "\"savings\":%s%s}",
                         num, follow[f], num + (digits > 3 ? digits - 3 : 0), follow[f], num, follow[f]);
                both_str(&t, line);
                /* the number last, with fewer than 8 bytes after it */
                snprintf(line, sizeof line,
                         "{\"type\":\"redeem\",\"id\":\"N-2\",\"at\":\"2026-11-11T20:15:00+08:00\","
                         "\"order_amount\":%s%s,\"points\":%s%s",
                         num, follow[f], num, follow[f]);
                both_str(&t, line);
                size_t n = strlen(line);
                line[n] = '}';
                line[n + 1] = 0;
                both_str(&t, line);
            }
        }
    }
    twin_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handcrafted),
        cmocka_unit_test(limits),
        cmocka_unit_test(mutations),
        cmocka_unit_test(runs),
        cmocka_unit_test(query_without_member),
        cmocka_unit_test(numbers_of_every_length),
    };
    return cmocka_run_group_tests_name("wire_fast", tests, NULL, NULL);
}
