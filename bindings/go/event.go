package loyalty

/*
#include <loyalty.h>
*/
import "C"

import (
	"time"
)

// Event is one of Order, Return, Action, Redeem, UseBenefit, JoinPaid,
// Profile and Tick (POLICY.md §11.1). Values are checked by the library when
// the event is applied: a refusal comes back from Apply, not from here.
//
// Instants are time.Time values written with their own offset (the local
// date and time of an event are the ones in its location), so build them
// with the store's zone: time.Date(2026, 11, 11, 20, 15, 0, 0, shanghai).
// Money is int64 minor units. An empty Channel or Store means none.
type Event interface {
	build(ev *C.loy_event, cs *cStrings) C.int
}

// Line is an order or return line: Amount is the line total in minor units,
// Qty informational; an empty SKU or Category means none.
type Line struct {
	SKU      string
	Category string
	Amount   int64
	Qty      int64
}

// Order is a purchase. Savings is the money saved from paid benefits (§7).
type Order struct {
	ID      string
	At      time.Time
	Channel string
	Store   string
	Lines   []Line
	Savings int64
}

// OriginalOrder is the order a Return refers to.
type OriginalOrder struct {
	ID     string
	At     time.Time
	Amount int64
	Points int64 // the points that order earned
}

// Return refunds Amount of an original order, optionally with its lines.
type Return struct {
	ID       string
	At       time.Time
	Channel  string
	Store    string
	Amount   int64
	Original OriginalOrder
	Lines    []Line
}

// Action is a signup, review, share, check-in... (any kind).
//
// Here, as for UseBenefit.Benefit and JoinPaid.Plan, an empty Kind is Go's
// zero value and means "not given" (the library refuses the event with
// LOY_E_INVALID_EVENT). POLICY.md allows an empty name, which the policy
// then lacks; send such an event through Member.ApplyJSON to carry it as
// written.
type Action struct {
	ID      string
	At      time.Time
	Channel string
	Store   string
	Kind    string
}

// Redeem spends Points on an order of OrderAmount minor units.
type Redeem struct {
	ID          string
	At          time.Time
	Channel     string
	Store       string
	Points      int64
	OrderAmount int64
}

// UseBenefit records a use of a benefit.
type UseBenefit struct {
	ID      string
	At      time.Time
	Channel string
	Store   string
	Benefit string
}

// JoinPaid joins (or extends) a paid plan.
type JoinPaid struct {
	ID      string
	At      time.Time
	Channel string
	Store   string
	Plan    string
}

// Profile changes the birthday and/or the tags. Birthday "YYYY-MM-DD" sets
// it; RemoveBirthday removes it; both empty leave it. Tags nil leaves the
// tags; a non-nil slice (even empty) replaces them. A Profile that changes
// nothing is refused by the library (LOY_E_INVALID_EVENT).
type Profile struct {
	ID             string
	At             time.Time
	Channel        string
	Store          string
	Birthday       string
	RemoveBirthday bool
	Tags           []string
}

// Tick carries no business: it lets time-driven rules run.
type Tick struct {
	ID      string
	At      time.Time
	Channel string
	Store   string
}

// Instant formats t the way the wire format writes instants (RFC 3339 with
// the offset of t's location).
func Instant(t time.Time) string { return t.Format(time.RFC3339Nano) }

func reset(ev *C.loy_event, cs *cStrings, typ C.loy_event_type, id string, at time.Time,
	channel, store string) C.int {
	rc := C.loy_event_reset(ev, typ, cs.add(id, false), cs.add(Instant(at), false))
	if rc == 0 && channel != "" {
		rc = C.loy_event_set_channel(ev, cs.add(channel, false))
	}
	if rc == 0 && store != "" {
		rc = C.loy_event_set_store(ev, cs.add(store, false))
	}
	return rc
}

func addLines(ev *C.loy_event, cs *cStrings, lines []Line) C.int {
	for _, l := range lines {
		rc := C.loy_event_add_line(ev, cs.add(l.SKU, true), cs.add(l.Category, true),
			C.int64_t(l.Amount), C.int64_t(l.Qty))
		if rc != 0 {
			return rc
		}
	}
	return 0
}

func (e Order) build(ev *C.loy_event, cs *cStrings) C.int {
	rc := reset(ev, cs, C.LOY_EVENT_ORDER, e.ID, e.At, e.Channel, e.Store)
	if rc == 0 && e.Savings != 0 {
		rc = C.loy_event_set_savings(ev, C.int64_t(e.Savings))
	}
	if rc == 0 {
		rc = addLines(ev, cs, e.Lines)
	}
	return rc
}

func (e Return) build(ev *C.loy_event, cs *cStrings) C.int {
	rc := reset(ev, cs, C.LOY_EVENT_RETURN, e.ID, e.At, e.Channel, e.Store)
	if rc == 0 {
		rc = C.loy_event_set_amount(ev, C.int64_t(e.Amount))
	}
	if rc == 0 && e.Original.ID != "" {
		rc = C.loy_event_set_original(ev, cs.add(e.Original.ID, false),
			cs.add(Instant(e.Original.At), false), C.int64_t(e.Original.Amount),
			C.int64_t(e.Original.Points))
	}
	if rc == 0 {
		rc = addLines(ev, cs, e.Lines)
	}
	return rc
}

func (e Action) build(ev *C.loy_event, cs *cStrings) C.int {
	rc := reset(ev, cs, C.LOY_EVENT_ACTION, e.ID, e.At, e.Channel, e.Store)
	if rc == 0 && e.Kind != "" {
		rc = C.loy_event_set_kind(ev, cs.add(e.Kind, false))
	}
	return rc
}

func (e Redeem) build(ev *C.loy_event, cs *cStrings) C.int {
	rc := reset(ev, cs, C.LOY_EVENT_REDEEM, e.ID, e.At, e.Channel, e.Store)
	if rc == 0 {
		rc = C.loy_event_set_points(ev, C.int64_t(e.Points))
	}
	if rc == 0 {
		rc = C.loy_event_set_order_amount(ev, C.int64_t(e.OrderAmount))
	}
	return rc
}

func (e UseBenefit) build(ev *C.loy_event, cs *cStrings) C.int {
	rc := reset(ev, cs, C.LOY_EVENT_USE_BENEFIT, e.ID, e.At, e.Channel, e.Store)
	if rc == 0 && e.Benefit != "" {
		rc = C.loy_event_set_benefit(ev, cs.add(e.Benefit, false))
	}
	return rc
}

func (e JoinPaid) build(ev *C.loy_event, cs *cStrings) C.int {
	rc := reset(ev, cs, C.LOY_EVENT_JOIN_PAID, e.ID, e.At, e.Channel, e.Store)
	if rc == 0 && e.Plan != "" {
		rc = C.loy_event_set_plan(ev, cs.add(e.Plan, false))
	}
	return rc
}

func (e Profile) build(ev *C.loy_event, cs *cStrings) C.int {
	rc := reset(ev, cs, C.LOY_EVENT_PROFILE, e.ID, e.At, e.Channel, e.Store)
	if rc == 0 && e.RemoveBirthday {
		rc = C.loy_event_set_birthday(ev, nil)
	} else if rc == 0 && e.Birthday != "" {
		rc = C.loy_event_set_birthday(ev, cs.add(e.Birthday, false))
	}
	if rc == 0 && e.Tags != nil {
		rc = C.loy_event_clear_tags(ev)
		for _, t := range e.Tags {
			if rc != 0 {
				break
			}
			rc = C.loy_event_add_tag(ev, cs.add(t, false))
		}
	}
	return rc
}

func (e Tick) build(ev *C.loy_event, cs *cStrings) C.int {
	return reset(ev, cs, C.LOY_EVENT_TICK, e.ID, e.At, e.Channel, e.Store)
}
