/* The JSON writer: output buffers, string escaping, result trees (see json.h). */
#include "json.h"

#include "result.h"

void loy_buf_init(loy_buf *b, const loy_alloc *alloc)
{
    b->alloc = alloc;
    b->data = NULL;
    b->len = b->cap = 0;
    b->nomem = false;
}

void loy_buf_release(loy_buf *b)
{
    loy_free(b->alloc, b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Room for `more` bytes plus a NUL, so the text can always be terminated. */
bool loy_buf_reserve(loy_buf *b, size_t more)
{
    if (b->nomem)
        return false;
    if (more > SIZE_MAX - b->len - 1 || !LOY_GROW(b->alloc, b->data, b->cap, b->len + more + 1)) {
        b->nomem = true;
        return false;
    }
    return true;
}

void loy_buf_put(loy_buf *b, const char *s, size_t len)
{
    if (!loy_buf_reserve(b, len))
        return;
    if (len)
        memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void loy_buf_puts(loy_buf *b, const char *s)
{
    loy_buf_put(b, s, strlen(s));
}

void loy_buf_putc(loy_buf *b, char c)
{
    if (b->len + 1 < b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return;
    }
    loy_buf_put(b, &c, 1);
}

/* The decimal digits of v at the end of tmp; returns their count (at most 20). */
static size_t int_digits(char tmp[24], int64_t v)
{
    size_t n = 0;
    /* Work on the magnitude as unsigned so INT64_MIN needs no special case. */
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[24 - 1 - n++] = (char)('0' + mag % 10u);
        mag /= 10u;
    } while (mag);
    if (v < 0)
        tmp[24 - 1 - n++] = '-';
    return n;
}

void loy_buf_int(loy_buf *b, int64_t v)
{
    char tmp[24];
    size_t n = int_digits(tmp, v);
    loy_buf_put(b, tmp + sizeof tmp - n, n);
}

void loy_json_write_string(loy_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    loy_buf_putc(b, '"');
    while (p < end) {
        /* Copy the longest run that needs no escaping in one go. */
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            loy_buf_put(b, (const char *)run, (size_t)(p - run));
        if (p >= end)
            break;
        unsigned c = *p;
        if (c >= 0x80) {
            size_t n = loy_json_utf8_seq(p, end);
            if (n) {
                loy_buf_put(b, (const char *)p, n);
                p += n;
            } else {
                loy_buf_put(b, "\\ufffd", 6);
                p++;
            }
            continue;
        }
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15u];
            n = 6;
        }
        loy_buf_put(b, esc, n);
        p++;
    }
    loy_buf_putc(b, '"');
}

bool loy_json_number_syntax(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == '-')
        i++;
    if (i >= len || s[i] < '0' || s[i] > '9')
        return false;
    if (s[i] == '0') {
        i++;
    } else {
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len || s[i] < '0' || s[i] > '9')
            return false;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= len || s[i] < '0' || s[i] > '9')
            return false;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    return i == len;
}

/* ------------------------------------------------------------ result tree */

/* A result is written on every replay line and by every binding, often
 * more work than the decision itself: the tree writer reads nodes directly
 * (result.h), reserves room once per token, and copies a string that needs
 * no escaping in one piece. Whatever needs escaping goes through
 * loy_json_write_string, so the bytes are the same. */

/* Bytes JSON can carry as they are: printable ASCII but '"' and '\\'. */
static const unsigned char plain[256] = {
    ['\x20'] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* Room for n more bytes (and the NUL loy_buf keeps after them). */
static inline bool room(loy_buf *b, size_t n)
{
    return (b->data && b->cap - b->len > n) || loy_buf_reserve(b, n);
}

static inline void raw(loy_buf *b, const char *s, size_t n)
{
    if (!room(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

/* Copies while it checks; on the first byte that needs escaping, nothing
 * copied counts and loy_json_write_string writes the whole string. */
static void put_string(loy_buf *b, const char *s, size_t len)
{
    if (len > SIZE_MAX / 2 || !room(b, len + 2)) {
        loy_json_write_string(b, s, len);
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    char *o = b->data + b->len + 1;
    for (size_t i = 0; i < len; i++) {
        if (!plain[p[i]]) {
            loy_json_write_string(b, s, len);
            return;
        }
        o[i] = (char)p[i];
    }
    o[-1] = '"';
    o[len] = '"';
    b->len += len + 2;
}

static void put_int(loy_buf *b, int64_t v)
{
    if (!room(b, 20))
        return;
    char tmp[24];
    size_t n = int_digits(tmp, v);
    memcpy(b->data + b->len, tmp + sizeof tmp - n, n);
    b->len += n;
}

static const char *node_text(const loy_node *n, size_t *len)
{
    if (n->lazy)
        rn_finish((loy_node *)n);   /* see result.h: no memory, no failure */
    *len = n->str ? n->len : 0;
    return n->str ? n->str : "";
}

static void write_node(loy_buf *b, const loy_node *n)
{
    switch (n->kind) {
    case LOY_NODE_BOOL:
        if (n->b)
            raw(b, "true", 4);
        else
            raw(b, "false", 5);
        return;
    case LOY_NODE_INT:
        put_int(b, n->i);
        return;
    case LOY_NODE_DECIMAL: {
        size_t len;
        const char *text = node_text(n, &len);
        /* A decimal that is not JSON number text would make the line invalid
         * JSON; keep the output valid and the value visible as a string. */
        if (loy_json_number_syntax(text, len))
            raw(b, text, len);
        else
            put_string(b, text, len);
        return;
    }
    case LOY_NODE_STRING: {
        size_t len;
        const char *text = node_text(n, &len);
        put_string(b, text, len);
        return;
    }
    case LOY_NODE_LIST:
        raw(b, "[", 1);
        for (const loy_node *c = n->first; c; c = c->next) {
            if (c != n->first)
                raw(b, ", ", 2);
            write_node(b, c);
        }
        raw(b, "]", 1);
        return;
    case LOY_NODE_MAP:
        raw(b, "{", 1);
        for (const loy_node *c = n->first; c; c = c->next) {
            if (c != n->first)
                raw(b, ", ", 2);
            const char *key = c->key ? c->key : "";
            put_string(b, key, strlen(key));
            raw(b, ": ", 2);
            write_node(b, c);
        }
        raw(b, "}", 1);
        return;
    }
    raw(b, "null", 4);
}

/* The spacing of POLICY.md's examples (", " and ": "), so output diffs
 * cleanly against the spec's vectors. */
void loy_json_write_node(loy_buf *b, const loy_node *n)
{
    if (n)
        write_node(b, n);
    else
        raw(b, "null", 4);
    /* room() always left a byte for the NUL. */
    if (!b->nomem && b->data)
        b->data[b->len] = '\0';
}

void loy_json_write_value(loy_buf *b, const loy_json *v)
{
    switch ((loy_json_type)v->type) {
    case LOY_JSON_NULL:
        loy_buf_put(b, "null", 4);
        return;
    case LOY_JSON_BOOL:
        if (v->b)
            loy_buf_put(b, "true", 4);
        else
            loy_buf_put(b, "false", 5);
        return;
    case LOY_JSON_NUMBER:
        loy_buf_put(b, v->str, v->len);
        return;
    case LOY_JSON_STRING:
        loy_json_write_string(b, v->str, v->len);
        return;
    case LOY_JSON_ARRAY:
        loy_buf_putc(b, '[');
        for (const loy_json *c = v->first; c; c = c->next) {
            if (c != v->first)
                loy_buf_put(b, ", ", 2);
            loy_json_write_value(b, c);
        }
        loy_buf_putc(b, ']');
        return;
    case LOY_JSON_OBJECT:
        loy_buf_putc(b, '{');
        for (const loy_json *c = v->first; c; c = c->next) {
            if (c != v->first)
                loy_buf_put(b, ", ", 2);
            loy_json_write_string(b, c->key, c->key_len);
            loy_buf_put(b, ": ", 2);
            loy_json_write_value(b, c);
        }
        loy_buf_putc(b, '}');
        return;
    }
}
