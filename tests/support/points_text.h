/*
 * The order's points effect of an answer as "delta rule rule ...", or ""
 * without one: what the differential tests of the order's points compare.
 *
 * Include after "support/cond_gen.h" (add).
 */
#ifndef POINTS_TEXT_H
#define POINTS_TEXT_H

#include <string.h>

#include "loyalty.h"

static inline void points_text(const loy_result *res, char *out, size_t cap)
{
    out[0] = '\0';
    const loy_node *effects = loy_node_get(loy_result_root(res), "effects");
    for (const loy_node *e = loy_node_first(effects); e; e = loy_node_next(e)) {
        const char *type = loy_node_str(loy_node_get(e, "type"), NULL);
        const char *source = loy_node_str(loy_node_get(e, "source"), NULL);
        if (!type || strcmp(type, "points") != 0 || !source || strcmp(source, "order") != 0)
            continue;
        add(out, cap, "%lld", (long long)loy_node_int(loy_node_get(e, "delta")));
        for (const loy_node *n = loy_node_first(loy_node_get(e, "rules")); n; n = loy_node_next(n))
            add(out, cap, " %s", loy_node_str(n, NULL));
    }
}

#endif
