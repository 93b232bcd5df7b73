package loyalty

/*
#include <stdlib.h>
#include <loyalty.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// ExpectedVersionNumber is the LOY_VERSION_NUMBER this package was written
// against; the linked library must have the same major version and be at
// least this one.
const ExpectedVersionNumber = 10000

// Version is the version of the linked C library ("1.0.0") and its number.
func Version() (string, int) {
	return C.GoString(C.loy_version()), int(C.loy_version_number())
}

func checkVersion() error {
	_, n := Version()
	if n/10000 != ExpectedVersionNumber/10000 || n < ExpectedVersionNumber {
		return fmt.Errorf("loyalty: linked libloyalty has version number %d; this package needs major %d, at least %d",
			n, ExpectedVersionNumber/10000, ExpectedVersionNumber)
	}
	return nil
}

// Policy is an immutable loaded policy. It is safe for concurrent use by any
// number of goroutines. Close releases it; the C policy is freed once every
// Member made under it is closed (or collected), so closing a policy early
// never breaks a member that still uses it.
type Policy struct {
	mu     sync.Mutex
	p      *C.loy_policy
	users  int // members alive and calls in flight
	closed bool
}

// LoadPolicyFile loads a YAML policy file. A policy that does not load gives
// an *Error with Code CodePolicy and its Diagnostics; an unreadable file
// CodeIO.
func LoadPolicyFile(path string) (*Policy, error) {
	if err := checkVersion(); err != nil {
		return nil, err
	}
	cpath, err := cString(path)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cpath))
	var p *C.loy_policy
	var diag *C.loy_diag
	rc := C.loy_policy_load_file(&p, cpath, &diag)
	return wrapPolicy(rc, p, diag, path)
}

// LoadPolicy loads a policy from YAML bytes, named "<memory>" in diagnostics.
func LoadPolicy(data []byte) (*Policy, error) { return LoadPolicyNamed(data, "") }

// LoadPolicyNamed loads a policy from YAML bytes; name names it in diagnostics.
func LoadPolicyNamed(data []byte, name string) (*Policy, error) {
	if err := checkVersion(); err != nil {
		return nil, err
	}
	var cname *C.char
	if name != "" {
		var err error
		if cname, err = cString(name); err != nil {
			return nil, err
		}
		defer C.free(unsafe.Pointer(cname))
	}
	var p *C.loy_policy
	var diag *C.loy_diag
	rc := C.loy_policy_load_buffer(&p, bytesPtr(data), C.size_t(len(data)), cname, &diag)
	runtime.KeepAlive(data)
	if name == "" {
		name = "<memory>"
	}
	return wrapPolicy(rc, p, diag, name)
}

func wrapPolicy(rc C.int, p *C.loy_policy, diag *C.loy_diag, what string) (*Policy, error) {
	diags := diagnostics(diag)
	C.loy_diag_free(diag)
	if rc != 0 || p == nil {
		e := newError(rc, "")
		e.Diagnostics = diags
		switch {
		case Code(rc) == CodeIO:
			e.Message = what + ": the file could not be read"
		case len(diags) == 0:
			e.Message = what + ": " + e.Message
		default:
			e.Message = ""
		}
		return nil, e
	}
	policy := &Policy{p: p}
	runtime.SetFinalizer(policy, (*Policy).Close)
	return policy, nil
}

func diagnostics(d *C.loy_diag) []Diagnostic {
	if d == nil {
		return nil
	}
	n := int(C.loy_diag_count(d))
	file := C.GoString(C.loy_diag_file(d))
	out := make([]Diagnostic, 0, n)
	for i := 0; i < n; i++ {
		ci := C.size_t(i)
		out = append(out, Diagnostic{
			File:    file,
			Line:    int(C.loy_diag_line(d, ci)),
			Column:  int(C.loy_diag_column(d, ci)),
			Message: C.GoString(C.loy_diag_message(d, ci)),
		})
	}
	return out
}

// acquire pins the C policy for a call or a member; release unpins it and
// frees the policy when it was closed and nothing uses it any more.
func (p *Policy) acquire() (*C.loy_policy, error) {
	if p == nil {
		return nil, ErrInvalidArg
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	p.users++
	return p.p, nil
}

func (p *Policy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users--
	p.freeIfUnused()
}

func (p *Policy) freeIfUnused() {
	if p.closed && p.users == 0 && p.p != nil {
		C.loy_policy_free(p.p)
		p.p = nil
	}
}

// Close releases the policy. Members made under it keep working until they
// are closed. Closing twice is harmless.
func (p *Policy) Close() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		runtime.SetFinalizer(p, nil)
	}
	p.freeIfUnused()
	return nil
}

// Entry is a tier, plan, stage, multiplier, action or gift of a policy.
type Entry struct {
	ID   string
	Name string // "" when the policy gives none
}

// BenefitInfo is a benefit of a policy.
type BenefitInfo struct {
	ID   string
	Name string
	Kind string // purchase, service, activity, product, gift
}

func (p *Policy) entries(kind C.loy_kind) []Entry {
	cp, err := p.acquire()
	if err != nil {
		return nil
	}
	defer p.release()
	n := int(C.loy_policy_count(cp, kind))
	out := make([]Entry, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, Entry{
			ID:   C.GoString(C.loy_policy_id(cp, kind, C.size_t(i))),
			Name: C.GoString(C.loy_policy_name(cp, kind, C.size_t(i))),
		})
	}
	return out
}

func ids(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// Tiers lists the levels in ascending order; the first is the entry tier.
// Like every accessor of a closed policy, it returns nothing after Close.
func (p *Policy) Tiers() []Entry { return p.entries(C.LOY_KIND_TIER) }

// Plans lists the paid plans in policy order.
func (p *Policy) Plans() []Entry { return p.entries(C.LOY_KIND_PLAN) }

// Stages lists the lifecycle stages in policy order.
func (p *Policy) Stages() []Entry { return p.entries(C.LOY_KIND_STAGE) }

// Multipliers lists the ids of points.earn.multipliers.
func (p *Policy) Multipliers() []string { return ids(p.entries(C.LOY_KIND_MULTIPLIER)) }

// Actions lists the kinds of points.actions.
func (p *Policy) Actions() []string { return ids(p.entries(C.LOY_KIND_ACTION)) }

// Gifts lists "upgrade:TIER", "birthday:TIER", "surprise:ID" and "spend:ID".
func (p *Policy) Gifts() []string { return ids(p.entries(C.LOY_KIND_GIFT)) }

// Benefits lists the benefits in policy order.
func (p *Policy) Benefits() []BenefitInfo {
	cp, err := p.acquire()
	if err != nil {
		return nil
	}
	defer p.release()
	n := int(C.loy_policy_count(cp, C.LOY_KIND_BENEFIT))
	out := make([]BenefitInfo, 0, n)
	for i := 0; i < n; i++ {
		ci := C.size_t(i)
		out = append(out, BenefitInfo{
			ID:   C.GoString(C.loy_policy_id(cp, C.LOY_KIND_BENEFIT, ci)),
			Name: C.GoString(C.loy_policy_name(cp, C.LOY_KIND_BENEFIT, ci)),
			Kind: C.GoString(C.loy_policy_benefit_kind(cp, ci)),
		})
	}
	return out
}

// Fingerprint is the XXH3-64 of the policy's source bytes, as 16 hex digits.
func (p *Policy) Fingerprint() string {
	cp, err := p.acquire()
	if err != nil {
		return ""
	}
	defer p.release()
	var buf [17]C.char
	C.loy_policy_fingerprint_hex(cp, &buf[0])
	return C.GoString(&buf[0])
}

// Program is the policy's `program` text ("" when absent).
func (p *Policy) Program() string {
	cp, err := p.acquire()
	if err != nil {
		return ""
	}
	defer p.release()
	return C.GoString(C.loy_policy_program(cp))
}

// Currency is the currency code ("" when absent) and its minor units.
func (p *Policy) Currency() (string, int) {
	cp, err := p.acquire()
	if err != nil {
		return "", 0
	}
	defer p.release()
	return C.GoString(C.loy_policy_currency(cp)), int(C.loy_policy_minor_units(cp))
}

// RedeemRate is the redemption rate: points buy amount minor units; ok is
// false when the policy has no points.redeem.
func (p *Policy) RedeemRate() (points, amount int64, ok bool) {
	cp, err := p.acquire()
	if err != nil {
		return 0, 0, false
	}
	defer p.release()
	var cpts, camt C.int64_t
	if C.loy_policy_redeem_rate(cp, &cpts, &camt) != 0 {
		return 0, 0, false
	}
	return int64(cpts), int64(camt), true
}

// ApplyState is the one-call form of the wire format: a member's state bytes
// and one event or query line (JSON) in; the result and the state to store
// out. The state out is the state in when the event was refused or the line
// was a query. A refusal is returned as the result's Error and as err.
// Safe for concurrent use.
func (p *Policy) ApplyState(state, line []byte) (*Result, []byte, error) {
	cp, err := p.acquire()
	if err != nil {
		return nil, state, err
	}
	defer p.release()
	var res *C.loy_result
	if rc := C.loy_result_new(&res, cp); rc != 0 {
		return nil, state, newError(rc, "")
	}
	defer C.loy_result_free(res)
	rc := C.loy_apply_json(cp, bytesPtr(state), C.size_t(len(state)),
		(*C.char)(bytesPtr(line)), C.size_t(len(line)), res)
	runtime.KeepAlive(state)
	runtime.KeepAlive(line)
	if Code(rc) == CodeNoMem || Code(rc) == CodeInvalidArg {
		return nil, state, newError(rc, C.GoString(C.loy_result_message(res)))
	}
	result := resultFrom(res, rc)
	out := state
	var n C.size_t
	if ptr := C.loy_result_state(res, &n); ptr != nil {
		out = C.GoBytes(ptr, C.int(n))
	}
	if result.Error != nil {
		return result, out, result.Error
	}
	return result, out, nil
}
