/*
 * JSON for the wire format (POLICY.md §11): a strict RFC 8259 reader that
 * builds a small DOM in an arena, and a writer that escapes every string.
 *
 * Written here rather than borrowed: the wire needs escaped surrogate pairs
 * (libyaml refuses them), numbers kept as their text (so int64 overflow and
 * "100.0" are the wire's decisions, not a double's), and zero allocations
 * once the arena has grown to the largest line seen — `loyalty simulate`
 * reads millions of lines.
 *
 * Reader rules (documented in docs/wire.md):
 *   - one JSON text, surrounded by optional whitespace (space, tab, CR, LF);
 *   - strings must be valid UTF-8, without raw control characters; every
 *     escape is decoded, \uXXXX surrogate pairs are joined and a lone
 *     surrogate is an error; a decoded string is NUL-terminated and may
 *     contain U+0000 (len says how long it is);
 *   - numbers follow the RFC grammar and are kept as their raw text;
 *   - objects keep their keys in order; a repeated key is kept, and
 *     loy_json_get returns the first (first wins);
 *   - nesting deeper than LOY_JSON_MAX_DEPTH arrays/objects is an error.
 * Errors carry a line (first_line + newlines before the error) and a
 * column counted in code points from 1 (a column in bytes would point into
 * the middle of a Chinese id).
 */
#ifndef LOY_WIRE_JSON_H
#define LOY_WIRE_JSON_H

#include "core.h"

#define LOY_JSON_MAX_DEPTH 64

typedef enum loy_json_type {
    LOY_JSON_NULL = 0,
    LOY_JSON_BOOL = 1,
    LOY_JSON_NUMBER = 2,
    LOY_JSON_STRING = 3,
    LOY_JSON_ARRAY = 4,
    LOY_JSON_OBJECT = 5
} loy_json_type;

typedef struct loy_json loy_json;
struct loy_json {
    uint8_t type;                   /* loy_json_type */
    bool b;                         /* BOOL */
    bool nul;                       /* STRING: the text holds U+0000 (C strings stop there) */
    uint32_t count;                 /* ARRAY/OBJECT: children */
    const char *key;                /* member of an OBJECT: its key (NUL-terminated) */
    size_t key_len;
    const char *str;                /* STRING: decoded text; NUMBER: raw text (both NUL-terminated) */
    size_t len;
    loy_json *first;                /* ARRAY/OBJECT: first child */
    loy_json *next;                 /* next sibling */
};

typedef struct loy_json_error {
    bool nomem;                     /* the arena could not grow (not a syntax error) */
    size_t offset;                  /* byte offset of the error in the text */
    unsigned line;                  /* 1-based (first_line counts as the text's first) */
    unsigned column;                /* 1-based, in code points */
    char message[160];
} loy_json_error;

/*
 * Parse text[0..len) into the arena. Returns the root, or NULL with *err
 * filled. first_line is the line number of the text's first line, for the
 * message (1 for a standalone text).
 */
LOY_INTERNAL loy_json *loy_json_parse(loy_arena *arena, const char *text, size_t len,
                                      unsigned first_line, loy_json_error *err);

/* A STRING without U+0000: usable as a C string (what the C API takes). */
static inline bool loy_json_is_text(const loy_json *v)
{
    return v && v->type == LOY_JSON_STRING && !v->nul;
}

/* The first member of an object with that key, or NULL (also when v is not
 * an object). Inline, with loy_json_get, so that a literal key's length is
 * known at compile time and its compare is a few loads: a member line
 * looks up some thirty keys. */
static inline const loy_json *loy_json_getn(const loy_json *v, const char *key, size_t len)
{
    if (!v || v->type != LOY_JSON_OBJECT)
        return NULL;
    for (const loy_json *c = v->first; c; c = c->next)
        if (c->key_len == len && memcmp(c->key, key, len) == 0)
            return c;
    return NULL;
}

static inline const loy_json *loy_json_get(const loy_json *v, const char *key)
{
    return loy_json_getn(v, key, strlen(key));
}

/* What a NUMBER's raw text is as an integer of the wire. */
typedef enum loy_json_int_status {
    LOY_JSON_INT_OK = 0,
    LOY_JSON_INT_NOT_INTEGER = 1,   /* has a fraction or an exponent: 100.5, 100.0, 1e2 */
    LOY_JSON_INT_RANGE = 2          /* an integer outside int64 */
} loy_json_int_status;

/* Reads an integer NUMBER ("-0" is 0). v must be a NUMBER. */
LOY_INTERNAL loy_json_int_status loy_json_int(const loy_json *v, int64_t *out);
/* True when the NUMBER's text is negative and not zero ("-0", "-0.0" are not). */
LOY_INTERNAL bool loy_json_negative(const loy_json *v);
/* Length of the valid UTF-8 sequence at p (a byte >= 0x80, p < end), or 0
 * when it is not one (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
LOY_INTERNAL size_t loy_json_utf8_seq(const unsigned char *p, const unsigned char *end);
/* 1 for the bytes a string may hold as they are: printable ASCII but '"' and '\\'. */
LOY_INTERNAL extern const unsigned char loy_json_plain[256];
/* "a string", "a number", ... for messages. */
LOY_INTERNAL const char *loy_json_type_word(const loy_json *v);

/* ----------------------------------------------------------------- writer */

/* A growable output buffer. Writing never fails visibly: on NOMEM it sets
 * nomem and drops what does not fit. */
typedef struct loy_buf {
    const loy_alloc *alloc;
    char *data;
    size_t len, cap;
    bool nomem;
} loy_buf;

LOY_INTERNAL void loy_buf_init(loy_buf *b, const loy_alloc *alloc);
LOY_INTERNAL void loy_buf_release(loy_buf *b);
LOY_INTERNAL bool loy_buf_reserve(loy_buf *b, size_t more);
LOY_INTERNAL void loy_buf_put(loy_buf *b, const char *s, size_t len);
LOY_INTERNAL void loy_buf_puts(loy_buf *b, const char *s);
LOY_INTERNAL void loy_buf_putc(loy_buf *b, char c);
LOY_INTERNAL void loy_buf_int(loy_buf *b, int64_t v);

/*
 * A JSON string: quotes, \" \\ and control characters escaped (\b \f \n \r
 * \t, else \u00XX), '/' and non-ASCII left as they are. Bytes that are not
 * valid UTF-8 are written as \ufffd, so the output is always valid UTF-8.
 */
LOY_INTERNAL void loy_json_write_string(loy_buf *b, const char *s, size_t len);
/* True when text is a JSON number by the RFC grammar. */
LOY_INTERNAL bool loy_json_number_syntax(const char *s, size_t len);
/* A result tree (public loy_node_* view) as one line of JSON, keys in tree order. */
LOY_INTERNAL void loy_json_write_node(loy_buf *b, const loy_node *n);
/* A parsed value written back (compact form, keys in order). */
LOY_INTERNAL void loy_json_write_value(loy_buf *b, const loy_json *v);

#endif
