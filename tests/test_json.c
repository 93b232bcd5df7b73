/*
 * The wire's JSON reader and writer (lib/wire/json.c, write.c): escapes,
 * surrogates, UTF-8, control characters, depth, numbers, duplicate keys,
 * whitespace, key order, error positions; the writer's escaping and the
 * result-tree form; Unicode ids through a replay (C API and `loyalty`);
 * and the test support's comparison of JSON values itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loyalty.h"
#include "result.h"
#include "wire/json.h"
#include "support/wire_support.h"

#define MINIMAL LOY_SPEC_DIR "/policies/minimal.yaml"
#define APPAREL LOY_SPEC_DIR "/policies/apparel.yaml"

/* ---------------------------------------------------------------- helpers */

typedef struct fixture {
    loy_arena arena;
    loy_json_error err;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    loy_arena_init(&f->arena, &loy_default_alloc);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    loy_arena_release(&f->arena);
    free(f);
    return 0;
}

static const loy_json *parse(fixture *f, const char *text)
{
    loy_arena_reset(&f->arena);
    return loy_json_parse(&f->arena, text, strlen(text), 1, &f->err);
}

static const loy_json *parse_n(fixture *f, const char *text, size_t len)
{
    loy_arena_reset(&f->arena);
    return loy_json_parse(&f->arena, text, len, 1, &f->err);
}

/* The text must be refused at (line, column), with `word` in the message. */
static void refused_at(fixture *f, const char *text, size_t len, unsigned line, unsigned column,
                       const char *word)
{
    const loy_json *v = parse_n(f, text, len);
    if (v)
        fail_msg("accepted: %.*s", (int)len, text);
    assert_false(f->err.nomem);
    if (f->err.line != line || f->err.column != column || !strstr(f->err.message, word))
        fail_msg("%.*s: got %u:%u: %s; expected %u:%u with '%s'", (int)len, text, f->err.line,
                 f->err.column, f->err.message, line, column, word);
}

#define REFUSED(text, line, col, word) refused_at(f, text, sizeof(text) - 1, line, col, word)

static void string_is(fixture *f, const char *json, const char *bytes, size_t len)
{
    const loy_json *v = parse(f, json);
    if (!v)
        fail_msg("%s: %s", json, f->err.message);
    assert_int_equal(v->type, LOY_JSON_STRING);
    assert_int_equal(v->len, len);
    assert_memory_equal(v->str, bytes, len);
    assert_int_equal(v->str[len], '\0');
}

/* ------------------------------------------------------------ the reader */

static void every_escape(void **state)
{
    fixture *f = *state;
    string_is(f, "\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\" \\ / \b \f \n \r \t", 15);
    string_is(f, "\"\\u0041\\u00e9\\u00E9\\u4e2d\\u20AC\"", "A\xC3\xA9\xC3\xA9\xE4\xB8\xAD\xE2\x82\xAC", 11);
    /* U+0000 is a valid escape; the length says where the string ends. */
    string_is(f, "\"a\\u0000b\"", "a\0b", 3);
    string_is(f, "\"\"", "", 0);
    /* Raw UTF-8 passes through unchanged; DEL needs no escape. */
    string_is(f, "\"中文 \xF0\x9F\x98\x80 \x7F\"", "中文 \xF0\x9F\x98\x80 \x7F", 13);
    REFUSED("\"\\x41\"", 1, 2, "invalid escape \\x");
    REFUSED("\"\\'\"", 1, 2, "invalid escape");
    REFUSED("\"\\u12\"", 1, 2, "four hex digits");
    REFUSED("\"\\u12G4\"", 1, 2, "four hex digits");
    REFUSED("\"abc", 1, 1, "unterminated string");
    REFUSED("\"abc\\\"", 1, 1, "unterminated string");
}

static void surrogate_pairs(void **state)
{
    fixture *f = *state;
    /* U+1F600 GRINNING FACE, escaped as a pair, becomes its four UTF-8 bytes. */
    string_is(f, "\"\\ud83d\\ude00\"", "\xF0\x9F\x98\x80", 4);
    string_is(f, "\"\\uD83D\\uDE00!\"", "\xF0\x9F\x98\x80!", 5);
    /* The first and last supplementary code points. */
    string_is(f, "\"\\ud800\\udc00\"", "\xF0\x90\x80\x80", 4);
    string_is(f, "\"\\udbff\\udfff\"", "\xF4\x8F\xBF\xBF", 4);
    REFUSED("\"\\ud83d\"", 1, 2, "lone high surrogate");
    REFUSED("\"ab\\ud83dx\"", 1, 4, "lone high surrogate");
    REFUSED("\"\\ud83d\\u0041\"", 1, 2, "lone high surrogate");
    REFUSED("\"\\ud83d\\ud83d\"", 1, 2, "lone high surrogate");
    REFUSED("\"\\ude00\"", 1, 2, "lone low surrogate");
    REFUSED("\"\\ude00\\ud83d\"", 1, 2, "lone low surrogate");
}

static void invalid_utf8(void **state)
{
    fixture *f = *state;
    REFUSED("\"\xC3\x28\"", 1, 2, "invalid UTF-8");          /* bad continuation */
    REFUSED("\"\xC0\xAF\"", 1, 2, "invalid UTF-8");          /* overlong '/' */
    REFUSED("\"\xE0\x80\xAF\"", 1, 2, "invalid UTF-8");      /* overlong, 3 bytes */
    REFUSED("\"\xED\xA0\x80\"", 1, 2, "invalid UTF-8");      /* an encoded surrogate */
    REFUSED("\"\xF4\x90\x80\x80\"", 1, 2, "invalid UTF-8");  /* above U+10FFFF */
    REFUSED("\"\xE4\xB8\"", 1, 2, "invalid UTF-8");          /* truncated */
    REFUSED("\"a\x80\"", 1, 3, "invalid UTF-8");             /* lone continuation */
    REFUSED("\"\xFF\"", 1, 2, "invalid UTF-8");
    /* Outside a string, a non-ASCII byte is simply not JSON. */
    REFUSED("\xC3\xA9", 1, 1, "expected a JSON value");
}

static void control_characters(void **state)
{
    fixture *f = *state;
    REFUSED("\"a\x01z\"", 1, 3, "control character U+0001");
    REFUSED("\"a\nz\"", 1, 3, "control character U+000A");
    REFUSED("\"a\tz\"", 1, 3, "control character U+0009");
    REFUSED("\"\x1F\"", 1, 2, "control character U+001F");
    REFUSED("{\"k\x00\": 1}", 1, 4, "control character U+0000");
}

static void depth_limit(void **state)
{
    fixture *f = *state;
    char text[2 * (LOY_JSON_MAX_DEPTH + 1) + 1];
    for (int i = 0; i < LOY_JSON_MAX_DEPTH; i++) {
        text[i] = '[';
        text[LOY_JSON_MAX_DEPTH + i] = ']';
    }
    const loy_json *v = parse_n(f, text, 2 * LOY_JSON_MAX_DEPTH);
    assert_non_null(v);
    int depth = 0;
    for (; v; v = v->first)
        depth++;
    assert_int_equal(depth, LOY_JSON_MAX_DEPTH);

    /* One more level, arrays or objects alike, is refused where it opens. */
    memset(text, '[', LOY_JSON_MAX_DEPTH + 1);
    memset(text + LOY_JSON_MAX_DEPTH + 1, ']', LOY_JSON_MAX_DEPTH + 1);
    refused_at(f, text, 2 * (LOY_JSON_MAX_DEPTH + 1), 1, LOY_JSON_MAX_DEPTH + 1, "deeper than 64");

    char obj[8 * 70];
    size_t n = 0;
    for (int i = 0; i < LOY_JSON_MAX_DEPTH + 1; i++)
        n += (size_t)snprintf(obj + n, sizeof obj - n, "{\"a\":");
    n += (size_t)snprintf(obj + n, sizeof obj - n, "1");
    for (int i = 0; i < LOY_JSON_MAX_DEPTH + 1; i++)
        obj[n++] = '}';
    refused_at(f, obj, n, 1, 5 * LOY_JSON_MAX_DEPTH + 1, "deeper than 64");
}

static void int_of(fixture *f, const char *text, loy_json_int_status want, int64_t value, bool negative)
{
    const loy_json *v = parse(f, text);
    if (!v)
        fail_msg("%s: %s", text, f->err.message);
    assert_int_equal(v->type, LOY_JSON_NUMBER);
    assert_string_equal(v->str, text);
    int64_t got = 12345;
    loy_json_int_status st = loy_json_int(v, &got);
    if (st != want)
        fail_msg("%s: status %d, expected %d", text, st, want);
    if (want == LOY_JSON_INT_OK && got != value)
        fail_msg("%s: %lld, expected %lld", text, (long long)got, (long long)value);
    assert_int_equal(loy_json_negative(v), negative);
}

static void numbers(void **state)
{
    fixture *f = *state;
    int_of(f, "0", LOY_JSON_INT_OK, 0, false);
    int_of(f, "-0", LOY_JSON_INT_OK, 0, false);
    int_of(f, "42", LOY_JSON_INT_OK, 42, false);
    int_of(f, "-100", LOY_JSON_INT_OK, -100, true);
    int_of(f, "9223372036854775807", LOY_JSON_INT_OK, INT64_MAX, false);
    int_of(f, "-9223372036854775808", LOY_JSON_INT_OK, INT64_MIN, true);
    int_of(f, "9223372036854775808", LOY_JSON_INT_RANGE, 0, false);
    int_of(f, "-9223372036854775809", LOY_JSON_INT_RANGE, 0, true);
    int_of(f, "18446744073709551616", LOY_JSON_INT_RANGE, 0, false);
    int_of(f, "100000000000000000000000000000", LOY_JSON_INT_RANGE, 0, false);
    int_of(f, "1e2", LOY_JSON_INT_NOT_INTEGER, 0, false);
    int_of(f, "1E+2", LOY_JSON_INT_NOT_INTEGER, 0, false);
    int_of(f, "1.0", LOY_JSON_INT_NOT_INTEGER, 0, false);
    int_of(f, "100.5", LOY_JSON_INT_NOT_INTEGER, 0, false);
    int_of(f, "-0.0", LOY_JSON_INT_NOT_INTEGER, 0, false);
    int_of(f, "-0e5", LOY_JSON_INT_NOT_INTEGER, 0, false);
    int_of(f, "-1e-400", LOY_JSON_INT_NOT_INTEGER, 0, true);

    REFUSED("01", 1, 1, "leading zeros");
    REFUSED("-01", 1, 1, "leading zeros");
    REFUSED("-", 1, 2, "digit after '-'");
    REFUSED("-a", 1, 2, "digit after '-'");
    REFUSED("1.", 1, 3, "digit after '.'");
    REFUSED("1.e5", 1, 3, "digit after '.'");
    REFUSED("1e", 1, 3, "exponent");
    REFUSED("1e+", 1, 4, "exponent");
    REFUSED(".5", 1, 1, "expected a JSON value");
    REFUSED("+1", 1, 1, "expected a JSON value");
    REFUSED("0x10", 1, 2, "after the JSON value");
    REFUSED("NaN", 1, 1, "expected a JSON value");
    REFUSED("Infinity", 1, 1, "expected a JSON value");
    REFUSED("[1 2]", 1, 4, "',' or ']'");
}

static void literals_and_structure(void **state)
{
    fixture *f = *state;
    const loy_json *v = parse(f, "[true, false, null, [], {}]");
    assert_non_null(v);
    assert_int_equal(v->count, 5);
    const loy_json *c = v->first;
    assert_int_equal(c->type, LOY_JSON_BOOL);
    assert_true(c->b);
    c = c->next;
    assert_int_equal(c->type, LOY_JSON_BOOL);
    assert_false(c->b);
    c = c->next;
    assert_int_equal(c->type, LOY_JSON_NULL);
    c = c->next;
    assert_int_equal(c->type, LOY_JSON_ARRAY);
    assert_int_equal(c->count, 0);
    c = c->next;
    assert_int_equal(c->type, LOY_JSON_OBJECT);
    assert_int_equal(c->count, 0);
    assert_null(c->next);

    REFUSED("tru", 1, 1, "invalid literal");
    REFUSED("nul", 1, 1, "invalid literal");
    REFUSED("truex", 1, 1, "invalid literal");
    REFUSED("True", 1, 1, "expected a JSON value");
    REFUSED("", 1, 1, "end of the text");
    REFUSED("   ", 1, 4, "end of the text");
    REFUSED("{} x", 1, 4, "after the JSON value");
    REFUSED("{}{}", 1, 3, "after the JSON value");
    REFUSED("[1,]", 1, 4, "expected a JSON value");
    REFUSED("[1", 1, 3, "',' or ']'");
    REFUSED("{\"a\":1,}", 1, 8, "a string key after ','");
    REFUSED("{\"a\" 1}", 1, 6, "':'");
    REFUSED("{'a': 1}", 1, 2, "a string key or '}'");
    REFUSED("{a: 1}", 1, 2, "a string key or '}'");
    REFUSED("{\"a\": 1", 1, 8, "',' or '}'");
    REFUSED("{\"a\": 1 \"b\": 2}", 1, 9, "',' or '}'");
}

static void duplicate_keys_first_wins(void **state)
{
    fixture *f = *state;
    const loy_json *v = parse(f, "{\"a\": 1, \"b\": 2, \"a\": 3}");
    assert_non_null(v);
    assert_int_equal(v->count, 3);
    const loy_json *a = loy_json_get(v, "a");
    assert_non_null(a);
    assert_string_equal(a->str, "1");
    assert_null(loy_json_get(v, "c"));
    /* Keys compare by their whole decoded bytes: "a\u0000b" is not "a". */
    v = parse(f, "{\"a\\u0000b\": 1, \"a\": 2}");
    assert_string_equal(loy_json_get(v, "a")->str, "2");
    /* Escaped and raw spellings of one key are the same key. */
    v = parse(f, "{\"\\u0061\": 1, \"a\": 2}");
    assert_string_equal(loy_json_get(v, "a")->str, "1");
}

static void whitespace_and_key_order(void **state)
{
    fixture *f = *state;
    const loy_json *v = parse(f, " \t\r\n{ \"z\" :\t1 ,\r\n\"a\":[ 2 , 3 ] ,\"m\" : { } }\r\n ");
    assert_non_null(v);
    const char *order[] = {"z", "a", "m"};
    size_t i = 0;
    for (const loy_json *c = v->first; c; c = c->next, i++)
        assert_string_equal(c->key, order[i]);
    assert_int_equal(i, 3);
    /* Only space, tab, CR and LF are whitespace. */
    REFUSED("\f{}", 1, 1, "expected a JSON value");
    REFUSED("{}\v", 1, 3, "after the JSON value");
    REFUSED("\xC2\xA0{}", 1, 1, "expected a JSON value");
}

static void error_positions(void **state)
{
    fixture *f = *state;
    /* Columns count code points: the x is the 8th character, 12th byte. */
    REFUSED("{\"名字\": x}", 1, 8, "expected a JSON value");
    REFUSED("{\"\xF0\x9F\x98\x80\": tru}", 1, 7, "invalid literal");
    /* Lines count from the caller's first line. */
    const char *text = "{\n  \"a\": 1,\n  \"b\": ?\n}";
    loy_arena_reset(&f->arena);
    assert_null(loy_json_parse(&f->arena, text, strlen(text), 41, &f->err));
    assert_int_equal(f->err.line, 43);
    assert_int_equal(f->err.column, 8);
    assert_int_equal(f->err.offset, 19);
}

/* ------------------------------------------------------------ the writer */

static char *written(const char *s, size_t len)
{
    loy_buf b;
    loy_buf_init(&b, &loy_default_alloc);
    loy_json_write_string(&b, s, len);
    assert_false(b.nomem);
    return b.data;
}

#define WRITES(in, out)                                    \
    do {                                                   \
        char *w_ = written(in, sizeof(in) - 1);            \
        assert_string_equal(w_, out);                      \
        free(w_);                                          \
    } while (0)

static void writer_escapes(void **state)
{
    (void)state;
    WRITES("plain", "\"plain\"");
    WRITES("", "\"\"");
    WRITES("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
    WRITES("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
    WRITES("\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"");
    WRITES("nul\0here", "\"nul\\u0000here\"");
    WRITES("中文 \xF0\x9F\x98\x80 é", "\"中文 \xF0\x9F\x98\x80 é\"");
    /* Bytes that are not UTF-8 never reach the output as they are. */
    WRITES("a\xFFz", "\"a\\ufffdz\"");
    WRITES("\xC3(", "\"\\ufffd(\"");
    WRITES("\xED\xA0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
    WRITES("\xE4\xB8", "\"\\ufffd\\ufffd\"");
}

static void writer_round_trip(void **state)
{
    fixture *f = *state;
    /* Every ASCII byte, then a few multi-byte characters. */
    char all[128 + 32];
    size_t n = 0;
    for (int c = 0; c < 128; c++)
        all[n++] = (char)c;
    const char *more = "é中\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF";
    memcpy(all + n, more, strlen(more));
    n += strlen(more);
    char *w = written(all, n);
    const loy_json *v = parse(f, w);
    if (!v)
        fail_msg("%s", f->err.message);
    assert_int_equal(v->type, LOY_JSON_STRING);
    assert_int_equal(v->len, n);
    assert_memory_equal(v->str, all, n);
    free(w);
}

static void writer_result_tree(void **state)
{
    (void)state;
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_file(&p, MINIMAL, NULL), LOY_OK);
    loy_result *r = NULL;
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    /* A never-used result is JSON too. */
    assert_string_equal(loy_result_json(r, NULL), "null");

    loy_result_begin(r);
    loy_node *root = rn_map(r);
    rn_put_str(r, root, "z-first", "keys keep the tree's order");
    rn_put_int(r, root, "max", INT64_MAX);
    rn_put_int(r, root, "min", INT64_MIN);
    rn_put_int(r, root, "zero", 0);
    rn_put(root, "share", rn_decimal(r, "0.95"));
    rn_put(root, "big", rn_decimal(r, "12345678901234567890.5"));
    rn_put(root, "not-a-number", rn_decimal(r, "1."));
    loy_node *list = rn_put(root, "list", rn_list(r));
    rn_push(list, rn_bool(r, true));
    rn_push(list, rn_bool(r, false));
    rn_push(list, rn_null(r));
    rn_push(list, rn_list(r));
    rn_push(list, rn_map(r));
    rn_put_str(r, root, "tab\there", "quote \" and 中");
    r->root = root;
    size_t len;
    const char *json = loy_result_json(r, &len);
    const char *want = "{\"z-first\": \"keys keep the tree's order\", \"max\": 9223372036854775807, "
                       "\"min\": -9223372036854775808, \"zero\": 0, \"share\": 0.95, "
                       "\"big\": 12345678901234567890.5, \"not-a-number\": \"1.\", "
                       "\"list\": [true, false, null, [], {}], \"tab\\there\": \"quote \\\" and 中\"}";
    assert_string_equal(json, want);
    assert_int_equal(len, strlen(want));
    /* Cached until the result's next use. */
    assert_ptr_equal(loy_result_json(r, NULL), json);
    loy_result_free(r);
    loy_policy_free(p);
}

/* The tree writer copies a string that needs no escaping in one piece and
 * hands any other to loy_json_write_string: for every byte value, alone
 * and inside text, as a value and as a key, the bytes must be the same. */
static void writer_tree_strings_as_write_string(void **state)
{
    (void)state;
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_file(&p, MINIMAL, NULL), LOY_OK);
    loy_result *r = NULL;
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    static char texts[256][8];
    for (int c = 0; c < 256; c++) {
        loy_result_begin(r);
        /* "ab?cd" with the byte in the middle, and the byte alone */
        char *t = texts[c];
        memcpy(t, "ab?cd", 6);
        t[2] = (char)c;
        loy_node *root = rn_map(r);
        rn_put(root, t, rn_strn(r, t, 5));
        rn_put(root, "one", rn_strn(r, t + 2, 1));
        r->root = root;
        size_t len;
        const char *json = loy_result_json(r, &len);
        assert_non_null(json);
        loy_buf b;
        loy_buf_init(&b, &loy_default_alloc);
        loy_buf_putc(&b, '{');
        /* a key is written up to its NUL, as before */
        loy_json_write_string(&b, t, c == 0 ? 2 : 5);
        loy_buf_puts(&b, ": ");
        loy_json_write_string(&b, t, 5);
        loy_buf_puts(&b, ", \"one\": ");
        loy_json_write_string(&b, t + 2, 1);
        loy_buf_putc(&b, '}');
        assert_false(b.nomem);
        assert_string_equal(json, b.data);
        assert_int_equal(len, b.len);
        loy_buf_release(&b);
    }
    loy_result_free(r);
    loy_policy_free(p);
}

/* Dates, months and borrowed strings are finished on their first read
 * (result.h); every builder has a fast road (room in the arena's head
 * chunk) and a slow one (a new chunk). 2,000 of each cross many chunks, so
 * both roads are taken, and each read must give what eager building gave. */
static void writer_lazy_nodes(void **state)
{
    (void)state;
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_file(&p, MINIMAL, NULL), LOY_OK);
    loy_result *r = NULL;
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    loy_result_begin(r);
    loy_node *root = rn_list(r);
    enum { N = 2000 };
    for (int k = 0; k < N; k++) {
        loy_node *m = rn_push(root, rn_map(r));
        rn_put_date(r, m, "d", 20000 + k);
        rn_put_str(r, m, "s", k % 2 ? "odd" : "even");
        rn_put_int(r, m, "i", k);
        rn_put_bool(r, m, "b", k % 3 == 0);
        rn_put(m, "m", rn_month(r, 24000 + k));
        rn_push(rn_put(m, "l", rn_list(r)), rn_date(r, -800000 + k * 997));
        rn_put(m, "x", rn_decimal(r, "1.5"));
        rn_put(m, "y", rn_policy_decimal(r, "-2.25"));
        rn_put(m, "n", rn_null(r));
        rn_put(m, "c", rn_strdup(r, "copied text", 6 + (size_t)(k % 6)));
        rn_push_map_str(r, rn_put(m, "e", rn_list(r)), "type", "points");
    }
    assert_false(r->nomem);
    r->root = root;
    assert_int_equal(loy_node_count(root), N);
    size_t k = 0;
    for (const loy_node *m = loy_node_first(root); m; m = loy_node_next(m), k++) {
        char want[16];
        size_t len = 99;
        loy_format_date((loy_day)(20000 + k), want);
        /* Read twice: the second read sees the finished node. */
        for (int twice = 0; twice < 2; twice++) {
            const char *d = loy_node_str(loy_node_get(m, "d"), &len);
            assert_int_equal(len, 10);
            assert_string_equal(d, want);
        }
        assert_string_equal(loy_node_str(loy_node_get(m, "s"), &len), k % 2 ? "odd" : "even");
        assert_int_equal(len, k % 2 ? 3 : 4);
        assert_int_equal(loy_node_int(loy_node_get(m, "i")), (int64_t)k);
        assert_int_equal(loy_node_bool(loy_node_get(m, "b")), k % 3 == 0);
        loy_format_month((loy_month)(24000 + k), want);
        assert_string_equal(loy_node_str(loy_node_get(m, "m"), &len), want);
        assert_int_equal(len, 7);
        loy_format_date((loy_day)(-800000 + (int64_t)k * 997), want);
        const loy_node *l = loy_node_get(m, "l");
        assert_int_equal(loy_node_count(l), 1);
        assert_string_equal(loy_node_str(loy_node_first(l), &len), want);
        assert_int_equal(len, 10);
        assert_int_equal(loy_node_type(loy_node_get(m, "x")), LOY_NODE_DECIMAL);
        assert_string_equal(loy_node_str(loy_node_get(m, "x"), &len), "1.5");
        assert_int_equal(len, 3);
        assert_int_equal(loy_node_type(loy_node_get(m, "y")), LOY_NODE_DECIMAL);
        assert_string_equal(loy_node_str(loy_node_get(m, "y"), &len), "-2.25");
        assert_int_equal(len, 5);
        assert_int_equal(loy_node_type(loy_node_get(m, "n")), LOY_NODE_NULL);
        const char *c = loy_node_str(loy_node_get(m, "c"), &len);
        assert_int_equal(len, 6 + k % 6);
        assert_memory_equal(c, "copied text", len);
        assert_int_equal(c[len], '\0');
        const loy_node *e = loy_node_first(loy_node_get(m, "e"));
        assert_int_equal(loy_node_count(e), 1);
        assert_string_equal(loy_node_key(loy_node_first(e)), "type");
        assert_string_equal(loy_node_str(loy_node_get(e, "type"), NULL), "points");
        assert_int_equal(loy_node_count(m), 11);
    }
    assert_int_equal(k, N);
    /* A long copy takes the general road. */
    static char big[5001];
    memset(big, 'b', 5000);
    size_t blen;
    assert_string_equal(loy_node_str(rn_strdup(r, big, 5000), &blen), big);
    assert_int_equal(blen, 5000);
    /* JSON of an unread tree formats on the way out. */
    loy_result_begin(r);
    root = rn_map(r);
    rn_put_date(r, root, "d", 20000);
    rn_put(root, "m", rn_month(r, 24000));
    rn_put_str(r, root, "s", "x");
    r->root = root;
    char d[11], mo[8], want[64];
    loy_format_date(20000, d);
    loy_format_month(24000, mo);
    snprintf(want, sizeof want, "{\"d\": \"%s\", \"m\": \"%s\", \"s\": \"x\"}", d, mo);
    assert_string_equal(loy_result_json(r, NULL), want);
    loy_result_free(r);
    loy_policy_free(p);
}

/* ----------------------------------------------- Unicode ids in a replay */

static const char unicode_events[] =
    "{\"member\": {\"id\": \"会员-\\ud83d\\ude00\", \"joined\": \"2026-01-01\"}}\n"
    "{\"type\": \"order\", \"id\": \"订单-１\", \"at\": \"2026-03-02T10:00:00+08:00\", "
    "\"lines\": [{\"sku\": \"外套\", \"category\": \"coats\", \"amount\": 10000}]}\n"
    "{\"type\": \"tick\", \"id\": \"\xF0\x9F\x8E\x89 tick \\\"q\\\" \\\\ \\u0001\", \"at\": \"2026-03-03T10:00:00+08:00\"}\n"
    "{\"type\": \"tick\", \"id\": \"\xF0\x9F\x8E\x89 tick \\\"q\\\" \\\\ \\u0001\", \"at\": \"2026-03-04T10:00:00+08:00\"}\n";

/*
 * Under minimal.yaml (1 point per yuan, no pending days, no expiry) the
 * 100.00 order earns 100 points at once; no tier change (vip at 500.00).
 * The second tick repeats the first's id: LOY_E_DUPLICATE (§10).
 */
static const char unicode_expected[] =
    "{\"event\": \"订单-１\", \"effects\": [{\"type\": \"points\", \"delta\": 100, \"source\": \"order\", \"rules\": []}], "
    "\"member\": {\"tier\": \"member\", \"points\": {\"available\": 100, \"pending\": 0}, \"stage\": null}}\n"
    "{\"event\": \"🎉 tick \\\"q\\\" \\\\ \\u0001\", \"effects\": [], "
    "\"member\": {\"tier\": \"member\", \"points\": {\"available\": 100, \"pending\": 0}, \"stage\": null}}\n"
    "{\"event\": \"🎉 tick \\\"q\\\" \\\\ \\u0001\", \"error\": {\"code\": \"LOY_E_DUPLICATE\", \"message\": \"\"}}\n";

static void unicode_ids_replay(void **state)
{
    (void)state;
    loy_policy *p = NULL;
    assert_int_equal(loy_policy_load_file(&p, MINIMAL, NULL), LOY_OK);
    loy_member *m = NULL;
    loy_result *r = NULL;
    assert_int_equal(loy_member_create(&m, p), LOY_OK);
    assert_int_equal(loy_result_new(&r, p), LOY_OK);
    const char **lines;
    size_t *lens, count;
    loy_test_split_lines(unicode_events, sizeof unicode_events - 1, &lines, &lens, &count);
    assert_int_equal(count, 4);
    assert_int_equal(loy_member_init_json(m, lines[0], lens[0], r), LOY_OK);
    assert_string_equal(loy_member_id(m), "会员-\xF0\x9F\x98\x80");

    assert_int_equal(loy_apply_json_line(p, m, lines[1], lens[1], r), LOY_OK);
    const char *json = loy_result_json(r, NULL);
    /* Non-ASCII goes out as UTF-8, not as \u escapes. */
    assert_non_null(strstr(json, "\"event\": \"订单-１\""));

    assert_int_equal(loy_apply_json_line(p, m, lines[2], lens[2], r), LOY_OK);
    json = loy_result_json(r, NULL);
    assert_non_null(strstr(json, "\"event\": \"\xF0\x9F\x8E\x89 tick \\\"q\\\" \\\\ \\u0001\""));

    assert_int_equal(loy_apply_json_line(p, m, lines[3], lens[3], r), LOY_E_DUPLICATE);

    free(lines);
    free(lens);
    loy_result_free(r);
    loy_member_free(m);
    loy_policy_free(p);
}

static void unicode_ids_cli(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/unicode.jsonl", loy_test_tmpdir());
    assert_true(loy_test_write_file(path, unicode_events, sizeof unicode_events - 1));
    const char *argv[] = {LOY_CLI, "replay", MINIMAL, path, NULL};
    loy_test_run run;
    assert_true(loy_test_spawn(argv, &run));
    if (run.status != 0)
        fail_msg("exit %d: %s", run.status, run.err);
    assert_int_equal(loy_test_compare_lines("unicode replay", unicode_expected, sizeof unicode_expected - 1,
                                            run.out, run.out_len),
                     0);
    /* The raw UTF-8 of the ids is in the bytes printed. */
    assert_non_null(strstr(run.out, "订单-１"));
    assert_non_null(strstr(run.out, "\xF0\x9F\x8E\x89 tick"));
    loy_test_run_free(&run);
}

/* ----------------------------------------- the comparison the tests use */

static void compare_as_values(void **state)
{
    (void)state;
    char why[600];
#define EQ(a, b) assert_true(loy_test_json_equal(a, strlen(a), b, strlen(b), why, sizeof why))
#define NE(a, b, where)                                                     \
    do {                                                                    \
        assert_false(loy_test_json_equal(a, strlen(a), b, strlen(b), why, sizeof why)); \
        if (!strstr(why, where))                                            \
            fail_msg("'%s' does not name '%s'", why, where);                \
    } while (0)
    EQ("{\"a\": 1, \"b\": [1, 2]}", "{\"b\":[1,2],\"a\":1}");
    EQ("0.95", "0.950");
    EQ("95e-2", "0.95");
    EQ("100", "1e2");
    EQ("0", "-0");
    EQ("-0.0", "0e10");
    EQ("{\"event\": \"X\", \"error\": {\"code\": \"C\", \"message\": \"one wording\"}}",
       "{\"error\": {\"message\": \"another\", \"code\": \"C\"}, \"event\": \"X\"}");
    EQ("{\"event\": \"X\", \"effects\": []}", "{\"event\": \"X\", \"effects\": [], \"trace\": [{\"rule\": 1}]}");
    NE("{\"a\": 1}", "{\"a\": 2}", "$.a");
    NE("{\"a\": 1}", "{\"a\": \"1\"}", "$.a");
    NE("{\"a\": 1}", "{\"a\": 1, \"b\": 2}", "$.b");
    NE("{\"a\": 1, \"b\": 2}", "{\"a\": 1}", "$.b");
    NE("[1, 2]", "[2, 1]", "[0]");
    NE("[1, 2]", "[1, 2, 3]", "different lengths");
    NE("{\"e\": [{\"t\": \"gold\"}]}", "{\"e\": [{\"t\": \"silver\"}]}", "$.e[0].t");
    NE("0.95", "0.9", "different numbers");
    NE("-1", "1", "different numbers");
    NE("{\"error\": {\"code\": \"A\"}}", "{\"error\": {\"code\": \"B\"}}", "$.error.code");
    /* A message is free only inside the root's error; a trace only at the root. */
    NE("{\"x\": {\"message\": \"a\"}}", "{\"x\": {\"message\": \"b\"}}", "$.x.message");
    NE("{\"x\": {}}", "{\"x\": {\"trace\": 1}}", "$.x.trace");
    NE("{}", "{", "not JSON");
#undef EQ
#undef NE
    const char *exp = "{\"a\": 1}\n\n{\"b\": 2}\n";
    const char *same = "{\"a\":1}\n{\"b\":2}";
    const char *other = "{\"a\":1}\n{\"b\":3}\n{\"c\":4}\n";
    assert_int_equal(loy_test_compare_lines("self-test", exp, strlen(exp), same, strlen(same)), 0);
    assert_int_equal(loy_test_compare_lines("self-test (2 mismatches expected)", exp, strlen(exp), other,
                                            strlen(other)),
                     2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_escape, setup, teardown),
        cmocka_unit_test_setup_teardown(surrogate_pairs, setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(control_characters, setup, teardown),
        cmocka_unit_test_setup_teardown(depth_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(literals_and_structure, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicate_keys_first_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(whitespace_and_key_order, setup, teardown),
        cmocka_unit_test_setup_teardown(error_positions, setup, teardown),
        cmocka_unit_test(writer_escapes),
        cmocka_unit_test_setup_teardown(writer_round_trip, setup, teardown),
        cmocka_unit_test(writer_result_tree),
        cmocka_unit_test(writer_lazy_nodes),
        cmocka_unit_test(writer_tree_strings_as_write_string),
        cmocka_unit_test(unicode_ids_replay),
        cmocka_unit_test(unicode_ids_cli),
        cmocka_unit_test(compare_as_values),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
