/*
 * The check the tests of nodes fixed at load share (lib/result.h): answers
 * on several threads read them at once, so none may be left for a reader
 * to finish.
 *
 * Include after <cmocka.h> and its prerequisites, and result.h.
 */
#ifndef FIXED_NODES_H
#define FIXED_NODES_H

/* No node from n on, or under one, is lazy. */
static inline void expect_finished(const loy_node *n)
{
    for (; n; n = n->next) {
        assert_int_equal(n->lazy, LOY_LAZY_NONE);
        if (n->kind == LOY_NODE_MAP || n->kind == LOY_NODE_LIST)
            expect_finished(n->first);
    }
}

#endif
