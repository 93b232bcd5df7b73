/*
 * The smallest checkout: load a policy, make a member, apply one order and
 * print what it earned. Build against an installed library with
 *   cc checkout.c $(pkg-config --cflags --libs loyalty) -o checkout
 * Usage: checkout POLICY.yaml
 */
#include <loyalty.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    loy_policy *policy = NULL;
    loy_diag *diag = NULL;
    if (argc < 2 || loy_policy_load_file(&policy, argv[1], &diag) != LOY_OK) {
        for (size_t i = 0; i < loy_diag_count(diag); i++)
            fprintf(stderr, "%s:%u:%u: %s\n", loy_diag_file(diag), loy_diag_line(diag, i),
                    loy_diag_column(diag, i), loy_diag_message(diag, i));
        loy_diag_free(diag);
        return 1;
    }
    loy_diag_free(diag);

    loy_member *member = NULL;
    loy_event *order = NULL;
    loy_result *result = NULL;
    int rc = loy_member_new(&member, policy, "M-0001", "2025-03-02");
    if (rc == LOY_OK) rc = loy_member_set_birthday(member, "1990-11-20");
    if (rc == LOY_OK) rc = loy_event_new(&order, policy);
    if (rc == LOY_OK) rc = loy_result_new(&result, policy);
    if (rc == LOY_OK) rc = loy_event_reset(order, LOY_EVENT_ORDER, "O-1", "2026-11-11T20:15:00+08:00");
    if (rc == LOY_OK) rc = loy_event_set_channel(order, "pos");
    if (rc == LOY_OK) rc = loy_event_add_line(order, "COAT-1", "coats", 129900, 1);
    if (rc == LOY_OK) {
        rc = loy_apply(policy, member, order, result);   /* the member changes only if accepted */
        printf("%s\n", loy_result_json(result, NULL));

        /* The same answer without JSON: walk the effects. */
        const loy_node *effects = loy_node_get(loy_result_root(result), "effects");
        for (const loy_node *e = loy_node_first(effects); e; e = loy_node_next(e))
            printf("effect: %s\n", loy_node_str(loy_node_get(e, "type"), NULL));
        printf("tier %s, %lld points available, %lld pending\n", loy_member_tier(member),
               (long long)loy_member_points_available(member),
               (long long)loy_member_points_pending(member));
    } else {
        fprintf(stderr, "checkout: %s\n", loy_strerror(rc));
    }
    loy_result_free(result);
    loy_event_free(order);
    loy_member_free(member);
    loy_policy_free(policy);
    return rc == LOY_OK ? 0 : 1;
}
