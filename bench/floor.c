/*
 * The hard-coded apparel checkout (see floor.h). Every constant below is a
 * line of policies/apparel.yaml; nothing is looked up.
 */
#include "floor.h"

#include <string.h>
#include <xxhash.h>

const char *const fl_tier_ids[FL_TIERS] = {"member", "silver", "gold", "platinum"};
const char *const fl_stage_ids[5] = {"dormant", "loyal", "repeat", "first", "registered"};
const char *const fl_rule_ids[4] = {"tier_bonus", "member_day", "birthday_month", "new_season"};
const char *const fl_benefit_ids[7] = {"member-price", "free-shipping", "alteration", "stylist",
                                       "designer-salon", "preview-launch", "staff-discount"};
const char *const fl_price_values[FL_TIERS] = {NULL, "0.95", "0.9", "0.85"};

static const int64_t tier_at[FL_TIERS] = {0, 100000, 300000, 500000};
static const int64_t tier_bonus[FL_TIERS] = {0, 12, 15, 20};      /* x 10: every apparel factor is in tenths */
static const int64_t upgrade_points[FL_TIERS] = {0, 200, 500, 0};
static const bool birthday_gift[FL_TIERS] = {true, false, true, true};
static const int64_t birthday_points[FL_TIERS] = {0, 0, 300, 800};

/* Inlined where the arguments are constants, so the compiler folds them. */
static inline int32_t days(int32_t y, int32_t m, int32_t d)
{
    y -= m <= 2;
    const int32_t era = (y >= 0 ? y : y - 399) / 400;
    const int32_t yoe = y - era * 400;
    const int32_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int32_t fl_days(int32_t y, int32_t m, int32_t d)
{
    return days(y, m, d);
}

void fl_ymd(int32_t z, int32_t *y, int32_t *m, int32_t *d)
{
    z += 719468;
    const int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int32_t doe = z - era * 146097;
    const int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int32_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static bool leap(int32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int32_t month_last_day(int32_t month)
{
    static const int8_t dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int32_t y = month / 12, m = month % 12 + 1;
    return days(y, m, dim[m - 1] + (m == 2 && leap(y)));
}

static int32_t digits(const char *s, int n)
{
    int32_t v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* Available points join the lot of the same last day. */
static void credit(fl_member *m, int64_t points, int32_t expires)
{
    for (int i = 0; i < m->lot_count; i++) {
        if (m->lots[i].pending_until == FL_NONE && m->lots[i].expires == expires) {
            m->lots[i].points += points;
            return;
        }
    }
    fl_lot *lot = &m->lots[m->lot_count++];
    lot->points = points;
    lot->expires = expires;
    lot->pending_until = FL_NONE;
    lot->seq = m->next_seq++;
    lot->order_id = NULL;
}

static void remove_lot(fl_member *m, int i)
{
    m->lots[i] = m->lots[--m->lot_count];
}

static void housekeeping(fl_member *m, int32_t day, fl_decision *d)
{
    /* Releases in credit order. */
    for (;;) {
        int found = -1;
        for (int i = 0; i < m->lot_count; i++)
            if (m->lots[i].pending_until != FL_NONE && m->lots[i].pending_until <= day &&
                (found < 0 || m->lots[i].seq < m->lots[found].seq))
                found = i;
        if (found < 0)
            break;
        fl_lot lot = m->lots[found];
        d->release[d->release_count].points = lot.points;
        d->release[d->release_count].order_id = lot.order_id;
        d->release_count++;
        remove_lot(m, found);
        credit(m, lot.points, lot.expires);
    }
    /* Expiry, one effect per last day, earliest first. */
    for (;;) {
        int32_t first = FL_NONE;
        for (int i = 0; i < m->lot_count; i++) {
            int32_t e = m->lots[i].expires;
            if (e != FL_NONE && e < day && (first == FL_NONE || e < first))
                first = e;
        }
        if (first == FL_NONE)
            break;
        int64_t sum = 0;
        for (int i = m->lot_count; i-- > 0;)
            if (m->lots[i].expires == first) {
                sum += m->lots[i].points;
                remove_lot(m, i);
            }
        d->expiry[d->expiry_count].points = sum;
        d->expiry[d->expiry_count].day = first;
        d->expiry_count++;
    }
}

static fl_bucket *bucket(fl_member *m, int32_t month)
{
    fl_bucket *b = &m->months[month % 12];
    if (b->month != month) {
        b->month = month;
        b->spend = 0;
        b->orders = 0;
    }
    return b;
}

static void window(const fl_member *m, int32_t month, int64_t *spend, int64_t *orders)
{
    int64_t s = 0, o = 0;
    for (int i = 0; i < 12; i++) {
        const fl_bucket *b = &m->months[i];
        if (b->month != FL_NONE && b->month > month - 12 && b->month <= month) {
            s += b->spend;
            o += b->orders;
        }
    }
    *spend = s;
    *orders = o;
}

static int64_t order_points(fl_member *m, const fl_order *o, int32_t day, int32_t mo, int32_t dd,
                            int64_t eligible, const bool *coats, const bool *counts, unsigned *rules)
{
    if (eligible < 1000)
        return 0;
    /* Factors that hold for every line, each x 10 (apparel's factors are
     * all in tenths); one that does not apply counts as 10, so every line
     * has the denominator 10^4. The largest product is 20 x 20 x 20 x 15,
     * so a line below 10^12 minor units keeps the sum of eight lines in
     * int64: the floor knows its policy, and does no 128-bit division. */
    int64_t common = 1;
    unsigned applied = 0;
    if (tier_bonus[m->tier]) {
        common *= tier_bonus[m->tier];
        applied |= FL_RULE_TIER_BONUS;
    } else {
        common *= 10;
    }
    if (dd == 8 || dd == 18 || dd == 28) {
        common *= 20;
        applied |= FL_RULE_MEMBER_DAY;
    } else {
        common *= 10;
    }
    if (m->bday_month == mo) {
        common *= 20;
        applied |= FL_RULE_BIRTHDAY;
    } else {
        common *= 10;
    }
    bool season = day >= days(2026, 10, 1) && day <= days(2026, 12, 31);
    int64_t sum = 0;
    for (int i = 0; i < o->line_count; i++) {
        if (!counts[i])
            continue;
        int64_t f = 10;
        if (season && coats[i]) {
            f = 15;
            applied |= FL_RULE_NEW_SEASON;
        }
        sum += o->lines[i].amount * common * f;
    }
    *rules = applied;
    /* rate: 1 point per 1.00 (100 minor units); four factors of 10. */
    int64_t points = sum / (100 * 10 * 10 * 10 * 10);
    if (points > 20000)
        points = 20000;
    int64_t today = m->cap_day == day ? m->day_points : 0;
    int64_t room = 30000 - today;
    if (room < 0)
        room = 0;
    if (points > room)
        points = room;
    m->cap_day = day;
    m->day_points = today + points;
    return points;
}

int fl_checkout(fl_member *m, const fl_order *o, fl_decision *d)
{
    d->release_count = d->expiry_count = 0;
    d->upgrade_gifts = d->surprise = 0;
    d->birthday = d->spend_gift = false;
    d->rules = 0;

    const char *at = o->at;
    int32_t y = digits(at, 4), mo = digits(at + 5, 2), dd = digits(at + 8, 2);
    int32_t day = days(y, mo, dd);
    int32_t month = y * 12 + mo - 1;
    int32_t expires = month_last_day(month + 12);
    d->expires = expires;

    housekeeping(m, day, d);

    /* Step 3: earn, then count the order. */
    bool coats[FL_MAX_LINES], counts[FL_MAX_LINES];
    int64_t eligible = 0, qualifying = 0;
    for (int i = 0; i < o->line_count; i++) {
        if (o->lines[i].amount < 0 || o->lines[i].amount >= INT64_C(1000000000000))
            return -1;      /* beyond order_points' int64 sum */
        const char *c = o->lines[i].category;
        char first = c ? c[0] : '\0';
        bool gift_card = first == 'g' && strcmp(c, "gift_card") == 0;
        bool shipping = first == 's' && strcmp(c, "shipping") == 0;
        coats[i] = first == 'c' && strcmp(c, "coats") == 0;
        counts[i] = !gift_card && !shipping;
        if (counts[i])
            eligible += o->lines[i].amount;
        if (!gift_card)
            qualifying += o->lines[i].amount;
    }
    int64_t points = order_points(m, o, day, mo, dd, eligible, coats, counts, &d->rules);
    d->order_points = points;
    if (points > 0) {
        if (m->lot_count >= FL_MAX_LOTS)
            return -1;
        fl_lot *lot = &m->lots[m->lot_count++];
        lot->points = points;
        lot->expires = expires;
        lot->pending_until = d->pending_until = day + 7;
        lot->seq = m->next_seq++;
        lot->order_id = o->id;
    }
    fl_bucket *b = bucket(m, month);
    b->spend += qualifying;
    b->orders += 1;
    m->orders += 1;
    m->last_order = day;

    /* Step 4: upgrade on the 12-month spend, with each level's gift once. */
    int64_t spend, orders12;
    window(m, month, &spend, &orders12);
    int32_t target = 0;
    for (int32_t t = 1; t < FL_TIERS; t++)
        if (tier_at[t] <= spend)
            target = t;
    d->tier_from = d->tier_to = m->tier;
    if (target > m->tier) {
        d->tier_to = target;
        for (int32_t t = m->tier + 1; t <= target; t++) {
            if (m->upgrade_given & (1u << t))
                continue;
            m->upgrade_given |= 1u << t;
            d->upgrade_gifts |= 1u << t;
            if (upgrade_points[t])
                credit(m, upgrade_points[t], expires);
        }
        m->tier = target;
        m->tier_since = day;
    }

    /* Step 5: birthday (month window; a Feb 29 birthday stays in February),
     * surprise gifts, the monthly spend gift. */
    if (m->bday_month == mo && !(m->birthday_years & (1ull << (y - 2000))) &&
        day - m->joined >= 30) {
        int32_t t = m->tier;
        while (!birthday_gift[t])
            t--;
        m->birthday_years |= 1ull << (y - 2000);
        d->birthday = true;
        d->birthday_tier = t;
        d->birthday_year = y;
        if (birthday_points[t])
            credit(m, birthday_points[t], expires);
    }
    if (m->tier >= FL_TIER_PLATINUM && day >= days(2026, 11, 1) && day <= days(2026, 11, 11) &&
        !(m->crab_years & (1ull << (y - 2000)))) {
        m->crab_years |= 1ull << (y - 2000);
        d->surprise |= FL_SURPRISE_CRAB;
    }
    if (m->tier >= FL_TIER_SILVER && mo == 3 && !m->fabric_given) {
        char key[64];
        size_t n = strlen(m->id);
        memcpy(key, m->id, n);
        memcpy(key + n, ":new-fabric-trial", 17);
        if (XXH3_64bits(key, n + 17) % 10000u < 500u) {
            m->fabric_given = true;
            d->surprise |= FL_SURPRISE_FABRIC;
        }
    }
    if (b->spend >= 200000) {
        bool given = false;
        for (int i = 0; i < m->spend_mark_count; i++)
            given |= m->spend_marks[i] == month;
        if (!given) {
            if (m->spend_mark_count == FL_MAX_SPEND_MARKS) {
                memmove(m->spend_marks, m->spend_marks + 1,
                        (FL_MAX_SPEND_MARKS - 1) * sizeof m->spend_marks[0]);
                m->spend_mark_count--;
            }
            m->spend_marks[m->spend_mark_count++] = month;
            d->spend_gift = true;
            d->spend_month = month;
        }
    }

    /* Step 6: the stage; the last order is today, so nobody is dormant. */
    int32_t stage = orders12 >= 4 ? FL_STAGE_LOYAL
                  : m->orders >= 2 ? FL_STAGE_REPEAT
                                   : FL_STAGE_FIRST;
    d->stage_from = d->stage_to = m->stage;
    if (stage != m->stage) {
        d->stage_to = stage;
        m->stage = stage;
    }

    int64_t available = 0, pending = 0;
    for (int i = 0; i < m->lot_count; i++) {
        if (m->lots[i].pending_until == FL_NONE)
            available += m->lots[i].points;
        else
            pending += m->lots[i].points;
    }
    d->tier = m->tier;
    d->available = available;
    d->pending = pending;
    d->stage = m->stage;
    return 0;
}

void fl_benefits_open(const fl_member *m, const char *channel, fl_benefits *b)
{
    int64_t available = 0;
    for (int i = 0; i < m->lot_count; i++)
        if (m->lots[i].pending_until == FL_NONE)
            available += m->lots[i].points;
    unsigned open = 0;
    int32_t t = m->tier;
    if (t >= FL_TIER_SILVER)
        open |= 1u << 0;                                    /* member-price */
    if (t >= FL_TIER_GOLD)
        open |= 1u << 1 | 1u << 2;                          /* free-shipping, alteration */
    if (t >= FL_TIER_PLATINUM)
        open |= 1u << 3;                                    /* stylist */
    if (t >= FL_TIER_PLATINUM && available >= 1000)
        open |= 1u << 4;                                    /* designer-salon */
    if (t >= FL_TIER_GOLD || (m->tags & FL_TAG_VIP))
        open |= 1u << 5;                                    /* preview-launch */
    if ((m->tags & FL_TAG_EMPLOYEE) &&
        !(channel && (strcmp(channel, "tmall") == 0 || strcmp(channel, "douyin") == 0)))
        open |= 1u << 6;                                    /* staff-discount */
    b->open = open;
    b->price_tier = t >= FL_TIER_SILVER ? t : -1;
}
