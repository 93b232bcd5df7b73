package loyalty

/*
#include <stdlib.h>
#include <loyalty.h>
*/
import "C"

import (
	"runtime"
	"time"
	"unsafe"
)

// Member is one member's state. A Member is NOT safe for concurrent use: one
// goroutine uses it at a time (many goroutines may each use their own members
// under one shared Policy). Close frees it; a finalizer does so otherwise.
type Member struct {
	policy *Policy
	cp     *C.loy_policy // pinned by policy.acquire until Close
	m      *C.loy_member
	ev     *C.loy_event
	res    *C.loy_result
	trace  bool
}

func newHandle(p *Policy) (*Member, error) {
	cp, err := p.acquire()
	if err != nil {
		return nil, err
	}
	mem := &Member{policy: p, cp: cp}
	rc := C.loy_member_create(&mem.m, cp)
	if rc != 0 {
		p.release()
		return nil, newError(rc, "")
	}
	runtime.SetFinalizer(mem, (*Member).Close)
	return mem, nil
}

// NewMember makes a new member with an id and a joining date "YYYY-MM-DD".
// Set a birthday and tags with SetBirthday and AddTag before its first event.
func NewMember(p *Policy, id, joined string) (*Member, error) {
	mem, err := newHandle(p)
	if err != nil {
		return nil, err
	}
	var cs cStrings
	defer cs.free()
	cid, cjoined := cs.add(id, false), cs.add(joined, false)
	if cs.err != nil {
		mem.Close()
		return nil, cs.err
	}
	if err := mem.check(C.loy_member_init(mem.m, cid, cjoined)); err != nil {
		mem.Close()
		return nil, err
	}
	return mem, nil
}

// MemberFromJSON makes a member from a member object line (POLICY.md §11.2),
// {"member": {...}}, with any legacy import fields. A refused object gives an
// *Error (ErrInvalidMember, ErrUnknownTier, ErrUnknownPlan, ErrJSON...).
func MemberFromJSON(p *Policy, line []byte) (*Member, error) {
	mem, err := newHandle(p)
	if err != nil {
		return nil, err
	}
	if err := mem.ensureResult(); err != nil {
		mem.Close()
		return nil, err
	}
	rc := C.loy_member_init_json(mem.m, (*C.char)(bytesPtr(line)), C.size_t(len(line)), mem.res)
	runtime.KeepAlive(line)
	if rc != 0 {
		r := resultFrom(mem.res, rc)
		mem.Close()
		return nil, r.Error
	}
	return mem, nil
}

// MemberFromBytes makes a member from its state bytes. Refused bytes give an
// *Error: ErrStateTruncated, ErrStateChecksum, ErrStateVersion or
// ErrStatePolicy (the state names a tier, plan or stage the policy lacks).
func MemberFromBytes(p *Policy, data []byte) (*Member, error) {
	mem, err := newHandle(p)
	if err != nil {
		return nil, err
	}
	rc := C.loy_member_load(mem.m, bytesPtr(data), C.size_t(len(data)))
	runtime.KeepAlive(data)
	if err := mem.check(rc); err != nil {
		mem.Close()
		return nil, err
	}
	return mem, nil
}

// Close frees the member's C handles and releases its policy. Closing twice
// is harmless; a closed member answers ErrClosed and zero values.
func (m *Member) Close() error {
	if m == nil || m.m == nil {
		return nil
	}
	C.loy_result_free(m.res)
	C.loy_event_free(m.ev)
	C.loy_member_free(m.m)
	m.res, m.ev, m.m, m.cp = nil, nil, nil, nil
	runtime.SetFinalizer(m, nil)
	m.policy.release()
	return nil
}

// Policy is the policy the member was made under.
func (m *Member) Policy() *Policy { return m.policy }

func (m *Member) check(rc C.int) error {
	if rc == 0 {
		return nil
	}
	msg := ""
	if m.m != nil {
		msg = C.GoString(C.loy_member_error(m.m))
	}
	runtime.KeepAlive(m)
	return newError(rc, msg)
}

func (m *Member) ensureResult() error {
	if m.res == nil {
		if rc := C.loy_result_new(&m.res, m.cp); rc != 0 {
			return newError(rc, "")
		}
	}
	var opts C.uint
	if m.trace {
		opts = C.LOY_RESULT_TRACE
	}
	C.loy_result_set_options(m.res, opts)
	return nil
}

// SetTrace asks for a trace of every rule considered in later results.
func (m *Member) SetTrace(on bool) { m.trace = on }

// SetBirthday sets the birthday ("YYYY-MM-DD"; "" for none). Only before the
// member's first event (ErrInvalidMember afterwards).
func (m *Member) SetBirthday(date string) error {
	if m.m == nil {
		return ErrClosed
	}
	var cs cStrings
	defer cs.free()
	cdate := cs.add(date, true)
	if cs.err != nil {
		return cs.err
	}
	err := m.check(C.loy_member_set_birthday(m.m, cdate))
	runtime.KeepAlive(m)
	return err
}

// AddTag adds a tag. Only before the member's first event.
func (m *Member) AddTag(tag string) error {
	if m.m == nil {
		return ErrClosed
	}
	var cs cStrings
	defer cs.free()
	ctag := cs.add(tag, false)
	if cs.err != nil {
		return cs.err
	}
	err := m.check(C.loy_member_add_tag(m.m, ctag))
	runtime.KeepAlive(m)
	return err
}

// Bytes is the state to store with the effects (versioned, checksummed).
func (m *Member) Bytes() ([]byte, error) {
	if m.m == nil {
		return nil, ErrClosed
	}
	var data unsafe.Pointer
	var n C.size_t
	if err := m.check(C.loy_member_to_bytes(m.m, &data, &n)); err != nil {
		return nil, err
	}
	out := C.GoBytes(data, C.int(n))
	runtime.KeepAlive(m)
	return out, nil
}

// Copy is an independent copy of the member (through its state bytes).
func (m *Member) Copy() (*Member, error) {
	data, err := m.Bytes()
	if err != nil {
		return nil, err
	}
	return MemberFromBytes(m.policy, data)
}

func (m *Member) str(s *C.char) string {
	out := C.GoString(s)
	runtime.KeepAlive(m)
	return out
}

// ID is the member's id.
func (m *Member) ID() string {
	if m.m == nil {
		return ""
	}
	return m.str(C.loy_member_id(m.m))
}

// Tier is the member's tier id.
func (m *Member) Tier() string {
	if m.m == nil {
		return ""
	}
	return m.str(C.loy_member_tier(m.m))
}

// TierSince is the date the tier was reached, "YYYY-MM-DD".
func (m *Member) TierSince() string {
	if m.m == nil {
		return ""
	}
	var buf [11]C.char
	if C.loy_member_tier_since(m.m, &buf[0]) != 0 {
		return ""
	}
	return m.str(&buf[0])
}

// Stage is the lifecycle stage ("" when null).
func (m *Member) Stage() string {
	if m.m == nil {
		return ""
	}
	return m.str(C.loy_member_stage(m.m))
}

// PointsAvailable is the available balance (below 0 only with a debt).
func (m *Member) PointsAvailable() int64 {
	if m.m == nil {
		return 0
	}
	n := int64(C.loy_member_points_available(m.m))
	runtime.KeepAlive(m)
	return n
}

// PointsPending is the pending balance.
func (m *Member) PointsPending() int64 {
	if m.m == nil {
		return 0
	}
	n := int64(C.loy_member_points_pending(m.m))
	runtime.KeepAlive(m)
	return n
}

// Lot is a points lot: Expires "" never expires; PendingUntil "" is available.
type Lot struct {
	Points       int64
	Expires      string
	PendingUntil string
}

// Lots lists the points lots, soonest-expiring first.
func (m *Member) Lots() []Lot {
	if m.m == nil {
		return nil
	}
	n := int(C.loy_member_lot_count(m.m))
	out := make([]Lot, 0, n)
	for i := 0; i < n; i++ {
		var pts C.int64_t
		var exp, pend [11]C.char
		if C.loy_member_lot(m.m, C.size_t(i), &pts, &exp[0], &pend[0]) != 0 {
			break
		}
		out = append(out, Lot{int64(pts), C.GoString(&exp[0]), C.GoString(&pend[0])})
	}
	runtime.KeepAlive(m)
	return out
}

// Metric is the tier metric (POLICY.md §3.1) in the tier window as of a date.
func (m *Member) Metric(asOf string) (int64, error) {
	if m.m == nil {
		return 0, ErrClosed
	}
	var cs cStrings
	defer cs.free()
	cdate := cs.add(asOf, false)
	if cs.err != nil {
		return 0, cs.err
	}
	var out C.int64_t
	if err := m.check(C.loy_member_metric(m.m, cdate, &out)); err != nil {
		return 0, err
	}
	return int64(out), nil
}

// finish reads the result of a call; NOMEM and INVALID_ARG are errors of
// the call itself, any other code a refusal carried by the result.
func (m *Member) finish(rc C.int) (*Result, error) {
	if Code(rc) == CodeNoMem || Code(rc) == CodeInvalidArg {
		return nil, newError(rc, C.GoString(C.loy_result_message(m.res)))
	}
	r := resultFrom(m.res, rc)
	runtime.KeepAlive(m)
	if r.Error != nil {
		return r, r.Error
	}
	return r, nil
}

// Apply applies one event. When the event is accepted the member changes and
// err is nil. When it is refused the member is unchanged, err is an *Error
// (errors.Is(err, ErrDuplicate), ...) and the Result carries the same Error.
func (m *Member) Apply(event Event) (*Result, error) {
	if m.m == nil {
		return nil, ErrClosed
	}
	if event == nil {
		return nil, ErrInvalidArg
	}
	if err := m.ensureResult(); err != nil {
		return nil, err
	}
	if m.ev == nil {
		if rc := C.loy_event_new(&m.ev, m.cp); rc != 0 {
			return nil, newError(rc, "")
		}
	}
	var cs cStrings
	defer cs.free()
	rc := event.build(m.ev, &cs)
	if cs.err != nil {
		return nil, cs.err
	}
	if rc != 0 {
		return nil, newError(rc, "building the event failed")
	}
	return m.finish(C.loy_apply(m.cp, m.m, m.ev, m.res))
}

// ApplyJSON applies one wire line: an event (POLICY.md §11.1) or a benefits
// query (§11.4). Refusals are returned as Apply returns them (a malformed
// line is ErrJSON).
func (m *Member) ApplyJSON(line []byte) (*Result, error) {
	if m.m == nil {
		return nil, ErrClosed
	}
	if err := m.ensureResult(); err != nil {
		return nil, err
	}
	rc := C.loy_apply_json_line(m.cp, m.m, (*C.char)(bytesPtr(line)), C.size_t(len(line)), m.res)
	runtime.KeepAlive(line)
	return m.finish(rc)
}

// Benefits is the benefits query at an instant, with an optional channel and
// store ("" for none). It never changes the member.
func (m *Member) Benefits(at time.Time, channel, store string) (*Result, error) {
	if m.m == nil {
		return nil, ErrClosed
	}
	if err := m.ensureResult(); err != nil {
		return nil, err
	}
	var cs cStrings
	defer cs.free()
	cat, cch, cst := cs.add(Instant(at), false), cs.add(channel, true), cs.add(store, true)
	if cs.err != nil {
		return nil, cs.err
	}
	return m.finish(C.loy_query_benefits(m.cp, m.m, cat, cch, cst, m.res))
}
