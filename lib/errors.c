/* Error codes, their names and sentences; the version. */
#include "core.h"

typedef struct { int code; const char *name; const char *text; } code_info;

static const code_info codes[] = {
    {LOY_OK, "LOY_OK", "success"},
    {LOY_E_NOMEM, "LOY_E_NOMEM", "out of memory"},
    {LOY_E_INVALID_ARG, "LOY_E_INVALID_ARG", "invalid argument"},
    {LOY_E_IO, "LOY_E_IO", "the file could not be read"},
    {LOY_E_POLICY, "LOY_E_POLICY", "the policy did not load"},
    {LOY_E_INVALID_EVENT, "LOY_E_INVALID_EVENT", "the event is invalid"},
    {LOY_E_OVERFLOW, "LOY_E_OVERFLOW", "a number or date is out of range"},
    {LOY_E_DUPLICATE, "LOY_E_DUPLICATE", "the event was already applied"},
    {LOY_E_OUT_OF_ORDER, "LOY_E_OUT_OF_ORDER", "the event is earlier than the last accepted one"},
    {LOY_E_INVALID_MEMBER, "LOY_E_INVALID_MEMBER", "the member object is invalid"},
    {LOY_E_UNKNOWN_TIER, "LOY_E_UNKNOWN_TIER", "no such tier in the policy"},
    {LOY_E_UNKNOWN_PLAN, "LOY_E_UNKNOWN_PLAN", "no such paid plan in the policy"},
    {LOY_E_UNKNOWN_BENEFIT, "LOY_E_UNKNOWN_BENEFIT", "no such benefit in the policy"},
    {LOY_E_PLAN_CONFLICT, "LOY_E_PLAN_CONFLICT", "another paid plan is running"},
    {LOY_E_REDEEM_DISABLED, "LOY_E_REDEEM_DISABLED", "the policy does not allow redemption"},
    {LOY_E_INSUFFICIENT_POINTS, "LOY_E_INSUFFICIENT_POINTS", "not enough points available"},
    {LOY_E_BELOW_MIN_POINTS, "LOY_E_BELOW_MIN_POINTS", "fewer points than the minimum redemption"},
    {LOY_E_NOT_STEP_MULTIPLE, "LOY_E_NOT_STEP_MULTIPLE", "points are not a multiple of the redemption step"},
    {LOY_E_OVER_ORDER_SHARE, "LOY_E_OVER_ORDER_SHARE", "the redemption exceeds the order share allowed"},
    {LOY_E_BENEFIT_NOT_OPEN, "LOY_E_BENEFIT_NOT_OPEN", "the benefit is not open to this member now"},
    {LOY_E_BENEFIT_LIMIT_REACHED, "LOY_E_BENEFIT_LIMIT_REACHED", "the benefit's limit is reached"},
    {LOY_E_INVALID_QUERY, "LOY_E_INVALID_QUERY", "the query is invalid"},
    {LOY_E_STATE_TRUNCATED, "LOY_E_STATE_TRUNCATED", "the state bytes are truncated"},
    {LOY_E_STATE_CHECKSUM, "LOY_E_STATE_CHECKSUM", "the state bytes fail their checksum"},
    {LOY_E_STATE_VERSION, "LOY_E_STATE_VERSION", "the state bytes have an unknown version"},
    {LOY_E_STATE_POLICY, "LOY_E_STATE_POLICY", "the state names a tier, plan or stage the policy lacks"},
    {LOY_E_JSON, "LOY_E_JSON", "malformed JSON"},
};

static const code_info *find(int code)
{
    for (size_t i = 0; i < LOY_ARRAY_LEN(codes); i++)
        if (codes[i].code == code)
            return &codes[i];
    return NULL;
}

const char *loy_strerror(int code)
{
    const code_info *c = find(code);
    return c ? c->text : "unknown error code";
}

const char *loy_error_name(int code)
{
    const code_info *c = find(code);
    return c ? c->name : "LOY_E_UNKNOWN";
}

const char *loy_version(void)
{
    return LOY_VERSION_STRING;
}

int loy_version_number(void)
{
    return LOY_VERSION_NUMBER;
}
