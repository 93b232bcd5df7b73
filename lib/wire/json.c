/* The JSON reader: strict RFC 8259 into an arena DOM (see json.h). */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>

typedef struct parser {
    const unsigned char *start;
    const unsigned char *end;
    const unsigned char *p;
    loy_arena *arena;
    loy_json_error *err;
    int depth;
    bool failed;
    /* Text and nodes are cut from blocks taken from the arena, one arena
     * call per block rather than per value: every decoded string and number
     * text fits in twice the input's length (each value's text is no longer
     * than its source, plus a NUL per value of at least one source byte). */
    char *text;
    size_t text_left;
    loy_json *nodes;
    size_t nodes_left;
} parser;

#define NODE_BLOCK 32

__attribute__((format(printf, 3, 4)))
static void fail_at(parser *ps, const unsigned char *at, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = true;
    ps->err->offset = (size_t)(at - ps->start);
    va_list ap;
    va_start(ap, fmt);
    loy_vformat(ps->err->message, sizeof ps->err->message, fmt, ap);
    va_end(ap);
}

static void fail_nomem(parser *ps)
{
    if (ps->failed)
        return;
    ps->failed = true;
    ps->err->nomem = true;
    ps->err->offset = (size_t)(ps->p - ps->start);
    snprintf(ps->err->message, sizeof ps->err->message, "out of memory");
}

/* What stands at `at`, for a message: 'x', U+XXXX or "the end of the text". */
static const char *describe(const parser *ps, const unsigned char *at, char buf[16])
{
    if (at >= ps->end)
        return "the end of the text";
    unsigned c = *at;
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, 16, "'%c'", (char)c);
    else if (c < 0x80)
        snprintf(buf, 16, "U+%04X", c);
    else
        snprintf(buf, 16, "byte 0x%02X", c);
    return buf;
}

static void fail_expected(parser *ps, const char *what)
{
    char buf[16];
    fail_at(ps, ps->p, "expected %s, found %s", what, describe(ps, ps->p, buf));
}

static inline void skip_ws(parser *ps)
{
    const unsigned char *p = ps->p, *end = ps->end;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    ps->p = p;
}

static loy_json *new_node(parser *ps, loy_json_type type)
{
    if (!ps->nodes_left) {
        ps->nodes = loy_arena_alloc(ps->arena, NODE_BLOCK * sizeof *ps->nodes);
        if (!ps->nodes) {
            fail_nomem(ps);
            return NULL;
        }
        ps->nodes_left = NODE_BLOCK;
    }
    loy_json *n = ps->nodes++;
    ps->nodes_left--;
    memset(n, 0, sizeof *n);
    n->type = (uint8_t)type;
    return n;
}

/* n bytes of the text block (sized in loy_json_parse to hold every value). */
static char *take_text(parser *ps, size_t n)
{
    if (n > ps->text_left) {
        fail_nomem(ps);
        return NULL;
    }
    char *t = ps->text;
    ps->text += n;
    ps->text_left -= n;
    return t;
}

static int hex_value(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

/* Four hex digits at p (p + 4 <= end checked by the caller), or -1. */
static long hex4(const unsigned char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * Length of the valid UTF-8 sequence starting at p (a byte >= 0x80), or 0
 * when it is not one (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
 */
size_t loy_json_utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);
    unsigned lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

/*
 * A string at ps->p (on the opening quote). Decoded into the arena, NUL
 * terminated. The decoded text is never longer than the raw text, so one
 * pass finds the end and a second decodes into a buffer of that size.
 */
/* Bytes a string can hold as they are: printable ASCII but '"' and '\\'.
 * A table, because the scan over every string byte is the reader's hot loop. */
const unsigned char loy_json_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static inline bool plain_byte(unsigned c)
{
    return loy_json_plain[c & 0xFFu];
}

static bool parse_string(parser *ps, const char **out, size_t *out_len, bool *has_nul)
{
    const unsigned char *open = ps->p;
    const unsigned char *p = open + 1, *end = ps->end;
    *has_nul = false;
    /* Most strings of the wire are short ASCII ids: copy them in one go. */
    while (p < end && plain_byte(*p))
        p++;
    if (p < end && *p == '"') {
        size_t n = (size_t)(p - (open + 1));
        char *copy = take_text(ps, n + 1);
        if (!copy)
            return false;
        memcpy(copy, open + 1, n);
        copy[n] = '\0';
        ps->p = p + 1;
        *out = copy;
        *out_len = n;
        return true;
    }
    while (p < end && *p != '"') {
        if (*p == '\\')
            p++;
        p++;
    }
    if (p >= end) {
        fail_at(ps, open, "unterminated string");
        return false;
    }
    const unsigned char *close = p;
    size_t raw = (size_t)(close - (open + 1));
    char *buf = take_text(ps, raw + 1);
    if (!buf)
        return false;
    size_t n = 0;
    p = open + 1;
    while (p < close) {
        unsigned c = *p;
        if (c == '\\') {
            unsigned e = p[1];
            switch (e) {
            case '"': buf[n++] = '"'; p += 2; continue;
            case '\\': buf[n++] = '\\'; p += 2; continue;
            case '/': buf[n++] = '/'; p += 2; continue;
            case 'b': buf[n++] = '\b'; p += 2; continue;
            case 'f': buf[n++] = '\f'; p += 2; continue;
            case 'n': buf[n++] = '\n'; p += 2; continue;
            case 'r': buf[n++] = '\r'; p += 2; continue;
            case 't': buf[n++] = '\t'; p += 2; continue;
            case 'u': break;
            default:
                if (e >= 0x21 && e < 0x7f)
                    fail_at(ps, p, "invalid escape \\%c in a string; expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX",
                            (char)e);
                else
                    fail_at(ps, p, "invalid escape in a string; a backslash must be followed by one of \" \\ / b f n r t u");
                return false;
            }
            long cp = (close - p >= 6) ? hex4(p + 2) : -1;
            if (cp < 0) {
                fail_at(ps, p, "\\u must be followed by four hex digits");
                return false;
            }
            const unsigned char *esc = p;
            p += 6;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                fail_at(ps, esc, "lone low surrogate \\u%04lX in a string", (unsigned long)cp);
                return false;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                long low = (close - p >= 6 && p[0] == '\\' && p[1] == 'u') ? hex4(p + 2) : -1;
                if (low < 0xDC00 || low > 0xDFFF) {
                    fail_at(ps, esc, "lone high surrogate \\u%04lX in a string: a low surrogate \\uDC00-\\uDFFF must follow",
                            (unsigned long)cp);
                    return false;
                }
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            if (cp == 0)
                *has_nul = true;
            n += put_utf8(buf + n, (unsigned long)cp);
            continue;
        }
        if (c < 0x20) {
            fail_at(ps, p, "control character U+%04X in a string must be escaped", c);
            return false;
        }
        if (c < 0x80) {
            buf[n++] = (char)c;
            p++;
            continue;
        }
        size_t len = loy_json_utf8_seq(p, close);
        if (!len) {
            fail_at(ps, p, "invalid UTF-8 in a string (byte 0x%02X)", c);
            return false;
        }
        memcpy(buf + n, p, len);
        n += len;
        p += len;
    }
    buf[n] = '\0';
    ps->p = close + 1;
    *out = buf;
    *out_len = n;
    return true;
}

static bool is_digit(unsigned c) { return c >= '0' && c <= '9'; }

static loy_json *parse_number(parser *ps)
{
    const unsigned char *s = ps->p, *p = s, *end = ps->end;
    if (p < end && *p == '-')
        p++;
    if (p >= end || !is_digit(*p)) {
        char buf[16];
        fail_at(ps, p, "expected a digit after '-', found %s", describe(ps, p, buf));
        return NULL;
    }
    if (*p == '0') {
        p++;
        if (p < end && is_digit(*p)) {
            fail_at(ps, s, "a number must not have leading zeros");
            return NULL;
        }
    } else {
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !is_digit(*p)) {
            char buf[16];
            fail_at(ps, p, "expected a digit after '.', found %s", describe(ps, p, buf));
            return NULL;
        }
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p)) {
            char buf[16];
            fail_at(ps, p, "expected a digit in the exponent, found %s", describe(ps, p, buf));
            return NULL;
        }
        while (p < end && is_digit(*p))
            p++;
    }
    loy_json *n = new_node(ps, LOY_JSON_NUMBER);
    if (!n)
        return NULL;
    size_t len = (size_t)(p - s);
    char *text = take_text(ps, len + 1);
    if (!text)
        return NULL;
    memcpy(text, s, len);
    text[len] = '\0';
    n->str = text;
    n->len = len;
    ps->p = p;
    return n;
}

static loy_json *parse_literal(parser *ps)
{
    static const struct { const char *word; size_t len; loy_json_type type; bool b; } words[] = {
        {"true", 4, LOY_JSON_BOOL, true},
        {"false", 5, LOY_JSON_BOOL, false},
        {"null", 4, LOY_JSON_NULL, false},
    };
    size_t avail = (size_t)(ps->end - ps->p);
    for (size_t i = 0; i < LOY_ARRAY_LEN(words); i++) {
        if (avail >= words[i].len && memcmp(ps->p, words[i].word, words[i].len) == 0) {
            const unsigned char *after = ps->p + words[i].len;
            /* "trueish" is not "true" followed by garbage we then blame on the caller. */
            if (after < ps->end && ((*after >= 'a' && *after <= 'z') || (*after >= 'A' && *after <= 'Z')
                                    || is_digit(*after) || *after == '_'))
                break;
            loy_json *n = new_node(ps, words[i].type);
            if (!n)
                return NULL;
            n->b = words[i].b;
            ps->p = after;
            return n;
        }
    }
    fail_at(ps, ps->p, "invalid literal; expected a JSON value (true, false, null, a number, a string, an array or an object)");
    return NULL;
}

static loy_json *parse_value(parser *ps);

static loy_json *parse_array(parser *ps)
{
    const unsigned char *open = ps->p;
    if (++ps->depth > LOY_JSON_MAX_DEPTH) {
        fail_at(ps, open, "arrays and objects nest deeper than %d levels", LOY_JSON_MAX_DEPTH);
        return NULL;
    }
    loy_json *arr = new_node(ps, LOY_JSON_ARRAY);
    if (!arr)
        return NULL;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        ps->depth--;
        return arr;
    }
    loy_json *last = NULL;
    for (;;) {
        skip_ws(ps);
        loy_json *v = parse_value(ps);
        if (!v)
            return NULL;
        if (last)
            last->next = v;
        else
            arr->first = v;
        last = v;
        arr->count++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            break;
        }
        fail_expected(ps, "',' or ']' in an array");
        return NULL;
    }
    ps->depth--;
    return arr;
}

static loy_json *parse_object(parser *ps)
{
    const unsigned char *open = ps->p;
    if (++ps->depth > LOY_JSON_MAX_DEPTH) {
        fail_at(ps, open, "arrays and objects nest deeper than %d levels", LOY_JSON_MAX_DEPTH);
        return NULL;
    }
    loy_json *obj = new_node(ps, LOY_JSON_OBJECT);
    if (!obj)
        return NULL;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        ps->depth--;
        return obj;
    }
    loy_json *last = NULL;
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != '"') {
            fail_expected(ps, last ? "a string key after ','" : "a string key or '}'");
            return NULL;
        }
        const char *key;
        size_t key_len;
        bool key_nul;
        if (!parse_string(ps, &key, &key_len, &key_nul))
            return NULL;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            fail_expected(ps, "':' after an object key");
            return NULL;
        }
        ps->p++;
        skip_ws(ps);
        loy_json *v = parse_value(ps);
        if (!v)
            return NULL;
        v->key = key;
        v->key_len = key_len;
        if (last)
            last->next = v;
        else
            obj->first = v;
        last = v;
        obj->count++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            break;
        }
        fail_expected(ps, "',' or '}' in an object");
        return NULL;
    }
    ps->depth--;
    return obj;
}

static loy_json *parse_value(parser *ps)
{
    if (ps->p >= ps->end) {
        fail_expected(ps, "a JSON value");
        return NULL;
    }
    switch (*ps->p) {
    case '{':
        return parse_object(ps);
    case '[':
        return parse_array(ps);
    case '"': {
        loy_json *n = new_node(ps, LOY_JSON_STRING);
        if (!n || !parse_string(ps, &n->str, &n->len, &n->nul))
            return NULL;
        return n;
    }
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return parse_number(ps);
    case 't': case 'f': case 'n':
        return parse_literal(ps);
    default:
        fail_expected(ps, "a JSON value");
        return NULL;
    }
}

static void locate(const char *text, size_t offset, unsigned first_line, loy_json_error *err)
{
    unsigned line = first_line ? first_line : 1;
    size_t line_start = 0;
    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    }
    unsigned column = 1;
    for (size_t i = line_start; i < offset; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80)
            column++;
    err->line = line;
    err->column = column;
}

loy_json *loy_json_parse(loy_arena *arena, const char *text, size_t len, unsigned first_line,
                         loy_json_error *err)
{
    loy_json_error scratch;
    if (!err)
        err = &scratch;
    memset(err, 0, sizeof *err);
    parser ps = {
        .start = (const unsigned char *)text,
        .end = (const unsigned char *)text + len,
        .p = (const unsigned char *)text,
        .arena = arena,
        .err = err,
    };
    if (len > (SIZE_MAX - 1) / 2) {
        fail_nomem(&ps);
        locate(text, 0, first_line, err);
        return NULL;
    }
    ps.text_left = 2 * len + 1;
    ps.text = loy_arena_alloc(arena, ps.text_left);
    if (!ps.text) {
        fail_nomem(&ps);
        locate(text, 0, first_line, err);
        return NULL;
    }
    skip_ws(&ps);
    loy_json *root = NULL;
    if (ps.p >= ps.end) {
        fail_at(&ps, ps.p, "expected a JSON value, found the end of the text");
    } else {
        root = parse_value(&ps);
        if (root) {
            skip_ws(&ps);
            if (ps.p < ps.end) {
                char buf[16];
                fail_at(&ps, ps.p, "unexpected %s after the JSON value", describe(&ps, ps.p, buf));
                root = NULL;
            }
        }
    }
    if (ps.failed) {
        locate(text, err->offset, first_line, err);
        return NULL;
    }
    return root;
}

loy_json_int_status loy_json_int(const loy_json *v, int64_t *out)
{
    const char *s = v->str, *end = v->str + v->len;
    bool neg = false;
    if (s < end && *s == '-') {
        neg = true;
        s++;
    }
    for (const char *q = s; q < end; q++)
        if (*q == '.' || *q == 'e' || *q == 'E')
            return LOY_JSON_INT_NOT_INTEGER;
    uint64_t acc = 0;
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    for (; s < end; s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (acc > (limit - d) / 10u)
            return LOY_JSON_INT_RANGE;
        acc = acc * 10u + d;
    }
    if (neg)
        *out = acc == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)acc;
    else
        *out = (int64_t)acc;
    return LOY_JSON_INT_OK;
}

bool loy_json_negative(const loy_json *v)
{
    if (v->len == 0 || v->str[0] != '-')
        return false;
    for (size_t i = 1; i < v->len; i++) {
        char c = v->str[i];
        if (c == 'e' || c == 'E')
            break;
        if (c >= '1' && c <= '9')
            return true;
    }
    return false;
}

const char *loy_json_type_word(const loy_json *v)
{
    if (!v)
        return "nothing";
    switch ((loy_json_type)v->type) {
    case LOY_JSON_NULL: return "null";
    case LOY_JSON_BOOL: return "a boolean";
    case LOY_JSON_NUMBER: return "a number";
    case LOY_JSON_STRING: return "a string";
    case LOY_JSON_ARRAY: return "an array";
    case LOY_JSON_OBJECT: return "an object";
    }
    return "a value";
}
