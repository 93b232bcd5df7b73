/*
 * The smallest policy the engine runs, for the tests whose subject is not
 * the policy: one tier, a point a unit. The program's name is the test's
 * own, so a failing load says whose policy it was. The text ends inside
 * `points: earn:`, so a test that needs more appends keys of earn (four
 * spaces), of points (two) or of the policy (none).
 */
#ifndef ONE_TIER_H
#define ONE_TIER_H

#define ONE_TIER_POLICY(program) \
    "loyalty_policy: 1\n"        \
    "program: " program "\n"     \
    "currency: {code: CNY}\n"    \
    "tiers:\n"                   \
    "  qualify_on: spend\n"      \
    "  levels:\n"                \
    "    - {id: member}\n"       \
    "points:\n"                  \
    "  earn:\n"                  \
    "    rate: {amount: 1, points: 1}\n"

#endif
