// Package loyalty is the Go binding of libloyalty: loyalty-program rules
// (tiers, points, gifts, benefits, paid plans) decided from a YAML policy.
//
//	policy, err := loyalty.LoadPolicyFile("apparel.yaml")
//	member, err := loyalty.NewMember(policy, "M-0001", "2025-03-02")
//	res, err := member.Apply(loyalty.Order{ID: "O-1", At: at,
//		Lines: []loyalty.Line{{SKU: "COAT-1", Category: "coats", Amount: 129900, Qty: 1}}})
//	if errors.Is(err, loyalty.ErrDuplicate) { /* a retried request: already applied */ }
//	state, err := member.Bytes() // store it with res.Effects, in one transaction
//
// A *Policy is immutable and safe for concurrent use by any number of
// goroutines, with no locking on the hot path. A *Member (its state, and the
// event and result handles it reuses) is not: one goroutine uses a member at
// a time. Policy.ApplyState is the stateless one-call form (state bytes and a
// JSON line in, result and new state bytes out) and is goroutine-safe.
//
// Every handle has Close and a finalizer. The library has no global state,
// no thread-local errors and needs no OS-thread pinning: errors come back as
// *Error values with the C code, matched with errors.Is against the
// sentinels ErrDuplicate, ErrOutOfOrder, ...
package loyalty
