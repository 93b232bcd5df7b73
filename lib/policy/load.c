/*
 * YAML text -> a tree of loy_yn nodes, each with its 1-based line and
 * column (POLICY.md §2). libyaml's event API is used so that every node
 * keeps its position and so that the bounds of internal.h are enforced while
 * reading, before anything large is built:
 *
 *   - depth: a container deeper than LOY_POLICY_MAX_DEPTH, or an alias whose
 *     target would end up deeper than that, stops the load;
 *   - aliases are not copied: an alias node is the anchored node itself (the
 *     tree is a DAG), and the number of nodes the validator will walk once
 *     every alias is expanded is counted; above LOY_POLICY_MAX_NODES the load
 *     stops. An alias to a node still open (a recursive structure) is refused;
 *   - merge keys (`<<`) are refused; tags other than the core !!str, !!map
 *     and !!seq are refused; a policy is one document.
 *
 * The tree lives in a temporary arena that the caller releases after the
 * build. libyaml allocates its own parser buffers with malloc; those are
 * freed here on every path.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

#include <yaml.h>
#include <xxhash.h>

typedef struct anchor {
    const char *name;
    loy_yn *node;
} anchor;

typedef struct loader {
    loy_arena *tmp;
    loy_diag *d;
    const char *data;
    size_t len;

    loy_yn *stack[LOY_POLICY_MAX_DEPTH + 1];
    uint32_t depth;
    loy_yn *root;
    int documents;

    anchor *anchors;      /* open addressing, power-of-two size */
    size_t anchor_cap, anchor_count;

    uint64_t total;       /* nodes so far, aliases expanded */
    bool nomem;
    bool failed;          /* an error was reported */
    bool fatal;           /* stop reading */
} loader;

static void fail(loader *l, unsigned line, unsigned col, bool fatal, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void fail(loader *l, unsigned line, unsigned col, bool fatal, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    loy_vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!loy_diag_add(l->d, line, col, "%s", msg))
        l->nomem = true;
    l->failed = true;
    if (fatal)
        l->fatal = true;
}

static unsigned mark_line(yaml_mark_t m) { return m.line + 1 > UINT32_MAX ? UINT32_MAX : (unsigned)(m.line + 1); }
static unsigned mark_col(yaml_mark_t m) { return m.column + 1 > UINT32_MAX ? UINT32_MAX : (unsigned)(m.column + 1); }

/* Line and column of a byte offset (reader errors carry only an offset). */
static void offset_pos(const loader *l, size_t off, unsigned *line, unsigned *col)
{
    unsigned ln = 1, cl = 1;
    for (size_t i = 0; i < off && i < l->len; i++) {
        unsigned char c = (unsigned char)l->data[i];
        if (c == '\n') {
            ln++;
            cl = 1;
        } else if ((c & 0xC0) != 0x80) {
            cl++;
        }
    }
    *line = ln;
    *col = cl;
}

/* ---------------------------------------------------------------- anchors */

static size_t anchor_slot(const anchor *tab, size_t cap, const char *name)
{
    size_t i = (size_t)XXH3_64bits(name, strlen(name)) & (cap - 1);
    while (tab[i].name && strcmp(tab[i].name, name) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

static bool anchor_set(loader *l, const char *name, loy_yn *node)
{
    if ((l->anchor_count + 1) * 2 > l->anchor_cap) {
        size_t ncap = l->anchor_cap ? l->anchor_cap * 2 : 64;
        anchor *tab = loy_arena_alloc(l->tmp, ncap * sizeof *tab);
        if (!tab)
            return false;
        memset(tab, 0, ncap * sizeof *tab);
        for (size_t i = 0; i < l->anchor_cap; i++)
            if (l->anchors[i].name)
                tab[anchor_slot(tab, ncap, l->anchors[i].name)] = l->anchors[i];
        l->anchors = tab;
        l->anchor_cap = ncap;
    }
    size_t i = anchor_slot(l->anchors, l->anchor_cap, name);
    if (!l->anchors[i].name) {
        /* a redefined anchor keeps its slot; later aliases see the new node */
        char *copy = loy_arena_strdup(l->tmp, name);
        if (!copy)
            return false;
        l->anchors[i].name = copy;
        l->anchor_count++;
    }
    l->anchors[i].node = node;
    return true;
}

static loy_yn *anchor_get(const loader *l, const char *name)
{
    if (!l->anchor_cap)
        return NULL;
    size_t i = anchor_slot(l->anchors, l->anchor_cap, name);
    return l->anchors[i].name ? l->anchors[i].node : NULL;
}

/* ------------------------------------------------------------------ nodes */

static loy_yn *new_node(loader *l, loy_yn_kind kind, yaml_mark_t at)
{
    loy_yn *n = loy_arena_alloc(l->tmp, sizeof *n);
    if (!n) {
        l->nomem = true;
        return NULL;
    }
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->line = mark_line(at);
    n->col = mark_col(at);
    n->weight = 1;
    n->height = 1;
    return n;
}

static bool count_nodes(loader *l, uint64_t n, unsigned line, unsigned col)
{
    l->total += n;
    if (l->total > LOY_POLICY_MAX_NODES) {
        fail(l, line, col, true,
             "the policy has more than %u nodes once aliases are expanded (the loader's bound)",
             LOY_POLICY_MAX_NODES);
        return false;
    }
    return true;
}

/* Append node (or an alias to it) to the open container; the root else. */
static void attach(loader *l, loy_yn *node, unsigned line, unsigned col)
{
    if (l->depth == 0) {
        l->root = node;
        return;
    }
    loy_yn *parent = l->stack[l->depth - 1];
    /* slots used: a map holds pairs, and a key may be waiting for its value */
    uint32_t fill = parent->kind == LOY_YN_MAP ? parent->count * 2 + (uint32_t)parent->key_waiting
                                               : parent->count;
    if (fill == UINT32_MAX) {
        fail(l, line, col, true, "too many entries in one mapping or list");
        return;
    }
    if (fill + 1 > parent->cap) {
        uint32_t ncap = parent->cap ? parent->cap * 2 : 8;
        if (ncap < parent->cap) {
            fail(l, line, col, true, "too many entries in one mapping or list");
            return;
        }
        loy_yn **kids = loy_arena_alloc(l->tmp, (size_t)ncap * sizeof *kids);
        if (!kids) {
            l->nomem = true;
            return;
        }
        if (fill)
            memcpy(kids, parent->kids, (size_t)fill * sizeof *kids);
        parent->kids = kids;
        parent->cap = ncap;
    }
    parent->kids[fill] = node;
    if (parent->kind == LOY_YN_SEQ) {
        parent->count++;
        return;
    }
    if (!parent->key_waiting) {
        parent->key_waiting = true;
        if (node->kind != LOY_YN_SCALAR) {
            fail(l, line, col, true, "a mapping key must be a plain scalar, not a %s",
                 node->kind == LOY_YN_MAP ? "mapping" : "list");
        } else if (node->plain && strcmp(node->text, "<<") == 0) {
            node->merge_key = true;
            fail(l, line, col, false,
                 "merge keys ('<<') are not supported; write the keys out (anchors and aliases are fine)");
        }
    } else {
        parent->key_waiting = false;
        parent->count++;
    }
}

/* Closing a container: its expanded weight and height. */
static void close_node(loy_yn *n)
{
    uint32_t slots = n->kind == LOY_YN_MAP ? n->count * 2 : n->count;
    uint64_t w = 1;
    uint32_t h = 0;
    for (uint32_t i = 0; i < slots; i++) {
        w += n->kids[i]->weight;
        if (w > (uint64_t)LOY_POLICY_MAX_NODES + 1)
            w = (uint64_t)LOY_POLICY_MAX_NODES + 1;
        if (n->kids[i]->height > h)
            h = n->kids[i]->height;
    }
    n->weight = w;
    n->height = h + 1;
    n->done = true;
}

static const char *tag_str(const yaml_char_t *tag) { return (const char *)tag; }

static void on_scalar(loader *l, const yaml_event_t *ev)
{
    loy_yn *n = new_node(l, LOY_YN_SCALAR, ev->start_mark);
    if (!n)
        return;
    if (!count_nodes(l, 1, n->line, n->col))
        return;
    size_t len = ev->data.scalar.length;
    char *text = loy_arena_strndup(l->tmp, (const char *)ev->data.scalar.value, len);
    if (!text) {
        l->nomem = true;
        return;
    }
    n->text = text;
    n->len = len;
    n->done = true;
    const char *tag = tag_str(ev->data.scalar.tag);
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !tag;
    if (tag && strcmp(tag, "tag:yaml.org,2002:str") != 0 && strcmp(tag, "!") != 0)
        fail(l, n->line, n->col, false, "unsupported tag '%s': only !!str may tag a scalar", tag);
    if (ev->data.scalar.anchor && !anchor_set(l, (const char *)ev->data.scalar.anchor, n)) {
        l->nomem = true;
        return;
    }
    attach(l, n, n->line, n->col);
}

static void on_start(loader *l, const yaml_event_t *ev, loy_yn_kind kind)
{
    const yaml_char_t *tag = kind == LOY_YN_MAP ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
    const yaml_char_t *anc = kind == LOY_YN_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    loy_yn *n = new_node(l, kind, ev->start_mark);
    if (!n)
        return;
    if (l->depth >= LOY_POLICY_MAX_DEPTH) {
        fail(l, n->line, n->col, true, "mappings and lists nest deeper than %u levels (the loader's bound)",
             LOY_POLICY_MAX_DEPTH);
        return;
    }
    if (!count_nodes(l, 1, n->line, n->col))
        return;
    const char *want = kind == LOY_YN_MAP ? "tag:yaml.org,2002:map" : "tag:yaml.org,2002:seq";
    if (tag && strcmp(tag_str(tag), want) != 0 && strcmp(tag_str(tag), "!") != 0)
        fail(l, n->line, n->col, false, "unsupported tag '%s'", tag_str(tag));
    if (anc && !anchor_set(l, (const char *)anc, n)) {
        l->nomem = true;
        return;
    }
    attach(l, n, n->line, n->col);
    if (l->fatal || l->nomem)
        return;
    l->stack[l->depth++] = n;
}

static void on_end(loader *l)
{
    if (l->depth == 0)
        return;
    close_node(l->stack[--l->depth]);
}

static void on_alias(loader *l, const yaml_event_t *ev)
{
    unsigned line = mark_line(ev->start_mark), col = mark_col(ev->start_mark);
    const char *name = (const char *)ev->data.alias.anchor;
    loy_yn *target = anchor_get(l, name);
    if (!target) {
        fail(l, line, col, true, "alias '*%s' names no anchor defined before it", name);
        return;
    }
    if (!target->done) {
        fail(l, line, col, true, "alias '*%s' refers to a node that contains it (a recursive structure)", name);
        return;
    }
    if (l->depth + target->height > LOY_POLICY_MAX_DEPTH) {
        fail(l, line, col, true,
             "alias '*%s' makes mappings and lists nest deeper than %u levels (the loader's bound)", name,
             LOY_POLICY_MAX_DEPTH);
        return;
    }
    if (!count_nodes(l, target->weight, line, col))
        return;
    /* The alias stands for the value where it is written: a copy of the
     * anchored node (sharing its text and entries) takes the alias's
     * position, so an error about the value is reported there, not at the
     * anchor (§2: "at the value"). */
    loy_yn *here = loy_arena_alloc(l->tmp, sizeof *here);
    if (!here) {
        l->nomem = true;
        return;
    }
    *here = *target;
    here->line = line;
    here->col = col;
    attach(l, here, line, col);
}

static void syntax_error(loader *l, const yaml_parser_t *p)
{
    unsigned line, col;
    if (p->error == YAML_MEMORY_ERROR) {
        l->nomem = true;
        return;
    }
    if (p->error == YAML_READER_ERROR) {
        offset_pos(l, p->problem_offset, &line, &col);
        fail(l, line, col, true, "cannot read the text: %s", p->problem ? p->problem : "invalid input");
        return;
    }
    line = mark_line(p->problem_mark);
    col = mark_col(p->problem_mark);
    if (p->context)
        fail(l, line, col, true, "invalid YAML: %s %s at %u:%u", p->problem ? p->problem : "syntax error",
             p->context, mark_line(p->context_mark), mark_col(p->context_mark));
    else
        fail(l, line, col, true, "invalid YAML: %s", p->problem ? p->problem : "syntax error");
}

int loy_yaml_parse(const char *data, size_t len, loy_arena *tmp, loy_diag *d, loy_yn **root)
{
    loader l;
    memset(&l, 0, sizeof l);
    l.tmp = tmp;
    l.d = d;
    l.data = data;
    l.len = len;
    *root = NULL;

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return LOY_E_NOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)(len ? data : ""), len);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            syntax_error(&l, &parser);
            break;
        }
        yaml_event_type_t type = ev.type;
        switch (type) {
        case YAML_DOCUMENT_START_EVENT:
            if (++l.documents > 1)
                fail(&l, mark_line(ev.start_mark), mark_col(ev.start_mark), true,
                     "a policy is one YAML document; a second one starts here");
            break;
        case YAML_SCALAR_EVENT:
            on_scalar(&l, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            on_start(&l, &ev, LOY_YN_SEQ);
            break;
        case YAML_MAPPING_START_EVENT:
            on_start(&l, &ev, LOY_YN_MAP);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            on_end(&l);
            break;
        case YAML_ALIAS_EVENT:
            on_alias(&l, &ev);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT || l.fatal || l.nomem)
            break;
    }
    yaml_parser_delete(&parser);
    if (l.nomem)
        return LOY_E_NOMEM;
    if (l.fatal)
        return LOY_E_POLICY;
    /* Errors that do not stop reading (a merge key, a tag) are in d: the
     * build goes on and reports the rest. */
    *root = l.root;
    return LOY_OK;
}
