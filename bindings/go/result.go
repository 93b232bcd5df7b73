package loyalty

/*
#include <loyalty.h>
*/
import "C"

import (
	"encoding/json"
	"math/big"
)

// Decimal is an exact decimal of a result ("0.95"), kept as its text so that
// nothing is rounded; it marshals to JSON as that number.
type Decimal string

// MarshalJSON writes the decimal as a JSON number, exactly.
func (d Decimal) MarshalJSON() ([]byte, error) { return []byte(d), nil }

// Rat is the decimal's exact value.
func (d Decimal) Rat() (*big.Rat, bool) { return new(big.Rat).SetString(string(d)) }

// Effect is one effect of a result, exactly as POLICY.md §11.3 describes it:
// a map whose values are string, int64, bool, nil, Decimal, []any and
// map[string]any. Money is in minor units, dates are "YYYY-MM-DD".
type Effect map[string]any

// Type is the effect's "type" ("points", "tier_changed", "gift", ...).
func (e Effect) Type() string { s, _ := e["type"].(string); return s }

// Int is an integer field of the effect (0 when absent).
func (e Effect) Int(key string) int64 { n, _ := e[key].(int64); return n }

// String is a string field of the effect ("" when absent).
func (e Effect) String(key string) string { s, _ := e[key].(string); return s }

// Summary is the member as a result leaves it.
type Summary struct {
	Tier      string
	Available int64 // below 0 only with a debt
	Pending   int64
	Stage     string // "" when null (a policy without lifecycle)
}

// Benefit is one entry of a benefits query (POLICY.md §11.4).
type Benefit struct {
	ID      string
	Kind    string
	Open    bool
	Reasons []any // when closed: every failed condition, then the limit
	Value   any   // Decimal, string, or nil when the benefit has none
}

// Result is one decision, read from the library's node tree. Data holds the
// whole answer as plain values (the JSON shape of POLICY.md §11.3/§11.4); the
// other fields are the same answer in Go types.
type Result struct {
	Code     Code
	Event    string   // the event's id; "" for a query, a member object, or no usable id
	Effects  []Effect // in the order they happened
	Member   *Summary // nil for a refusal
	Trace    any      // with SetTrace(true); its form is the library's
	Error    *Error   // the refusal, or nil
	Query    string   // "benefits" for a query line
	At       string   // a query's instant, as sent
	Benefits []Benefit
	Data     map[string]any
}

// OK reports whether the event was accepted (or the query answered).
func (r *Result) OK() bool { return r.Code == CodeOK }

// JSON is the answer as one line of JSON (keys sorted; exact decimals).
func (r *Result) JSON() ([]byte, error) { return json.Marshal(r.Data) }

// nodeValue turns a loy_node into plain Go values.
func nodeValue(n *C.loy_node) any {
	switch C.loy_node_type(n) {
	case C.LOY_NODE_MAP:
		out := make(map[string]any, int(C.loy_node_count(n)))
		for c := C.loy_node_first(n); c != nil; c = C.loy_node_next(c) {
			out[C.GoString(C.loy_node_key(c))] = nodeValue(c)
		}
		return out
	case C.LOY_NODE_LIST:
		out := make([]any, 0, int(C.loy_node_count(n)))
		for c := C.loy_node_first(n); c != nil; c = C.loy_node_next(c) {
			out = append(out, nodeValue(c))
		}
		return out
	case C.LOY_NODE_INT:
		return int64(C.loy_node_int(n))
	case C.LOY_NODE_BOOL:
		return C.loy_node_bool(n) != 0
	case C.LOY_NODE_STRING, C.LOY_NODE_DECIMAL:
		var size C.size_t
		p := C.loy_node_str(n, &size)
		s := ""
		if p != nil {
			s = C.GoStringN(p, C.int(size))
		}
		if C.loy_node_type(n) == C.LOY_NODE_DECIMAL {
			return Decimal(s)
		}
		return s
	default:
		return nil
	}
}

// resultFrom reads a result handle after a call that returned rc.
func resultFrom(res *C.loy_result, rc C.int) *Result {
	r := &Result{Code: Code(rc)}
	if root := C.loy_result_root(res); root != nil {
		if m, ok := nodeValue(root).(map[string]any); ok {
			r.Data = m
		}
	}
	if r.Data == nil {
		r.Data = map[string]any{}
	}
	d := r.Data
	r.Event, _ = d["event"].(string)
	r.Query, _ = d["query"].(string)
	r.At, _ = d["at"].(string)
	r.Trace = d["trace"]
	if list, ok := d["effects"].([]any); ok {
		r.Effects = make([]Effect, 0, len(list))
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				r.Effects = append(r.Effects, Effect(m))
			}
		}
	}
	if m, ok := d["member"].(map[string]any); ok {
		s := &Summary{}
		s.Tier, _ = m["tier"].(string)
		s.Stage, _ = m["stage"].(string)
		if pts, ok := m["points"].(map[string]any); ok {
			s.Available, _ = pts["available"].(int64)
			s.Pending, _ = pts["pending"].(int64)
		}
		r.Member = s
	}
	if list, ok := d["benefits"].([]any); ok {
		for _, e := range list {
			m, _ := e.(map[string]any)
			b := Benefit{Value: m["value"]}
			b.ID, _ = m["id"].(string)
			b.Kind, _ = m["kind"].(string)
			b.Open, _ = m["open"].(bool)
			b.Reasons, _ = m["reasons"].([]any)
			r.Benefits = append(r.Benefits, b)
		}
	}
	if rc != 0 {
		e := newError(rc, C.GoString(C.loy_result_message(res)))
		if em, ok := d["error"].(map[string]any); ok {
			if msg, ok := em["message"].(string); ok && msg != "" {
				e.Message = msg
			}
			e.Reasons, _ = em["reasons"].([]any)
		}
		r.Error = e
	}
	return r
}
