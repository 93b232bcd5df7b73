package loyalty

/*
#include <loyalty.h>
*/
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Code is a libloyalty error code (LOY_E_* of loyalty.h): 0 or negative.
// Values are pinned forever by the C library.
type Code int

// The codes of loyalty.h.
const (
	CodeOK                  Code = 0
	CodeNoMem               Code = -1
	CodeInvalidArg          Code = -2
	CodeIO                  Code = -3
	CodePolicy              Code = -4
	CodeInvalidEvent        Code = -10
	CodeOverflow            Code = -11
	CodeDuplicate           Code = -12
	CodeOutOfOrder          Code = -13
	CodeInvalidMember       Code = -14
	CodeUnknownTier         Code = -15
	CodeUnknownPlan         Code = -16
	CodeUnknownBenefit      Code = -17
	CodePlanConflict        Code = -18
	CodeRedeemDisabled      Code = -19
	CodeInsufficientPoints  Code = -20
	CodeBelowMinPoints      Code = -21
	CodeNotStepMultiple     Code = -22
	CodeOverOrderShare      Code = -23
	CodeBenefitNotOpen      Code = -24
	CodeBenefitLimitReached Code = -25
	CodeInvalidQuery        Code = -26
	CodeStateTruncated      Code = -27
	CodeStateChecksum       Code = -28
	CodeStateVersion        Code = -29
	CodeStatePolicy         Code = -30
	CodeJSON                Code = -31
)

// Name is the code's C name, e.g. "LOY_E_DUPLICATE".
func (c Code) Name() string { return C.GoString(C.loy_error_name(C.int(c))) }

// String is the library's fixed sentence for the code.
func (c Code) String() string { return C.GoString(C.loy_strerror(C.int(c))) }

// Diagnostic is one load error of a policy, positioned 1-based.
type Diagnostic struct {
	File    string
	Line    int
	Column  int
	Message string
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Column, d.Message)
}

// Error is every error of the library: a refused event, query or member
// object (Reasons for a refused benefit use), refused state bytes, a policy
// that did not load (Diagnostics), or API misuse. Compare with the sentinels:
//
//	if errors.Is(err, loyalty.ErrDuplicate) { ... }
//	var e *loyalty.Error
//	if errors.As(err, &e) { log.Print(e.Name, e.Message, e.Reasons) }
type Error struct {
	Code        Code
	Name        string // "LOY_E_DUPLICATE"
	Message     string // the detail; its wording is free
	Reasons     []any  // for LOY_E_BENEFIT_NOT_OPEN / _LIMIT_REACHED (POLICY.md §11.4)
	Diagnostics []Diagnostic
}

func (e *Error) Error() string {
	switch {
	case len(e.Diagnostics) > 0:
		parts := make([]string, len(e.Diagnostics))
		for i, d := range e.Diagnostics {
			parts[i] = d.String()
		}
		return "loyalty: " + e.Name + ": " + strings.Join(parts, "; ")
	case e.Message != "":
		return "loyalty: " + e.Name + ": " + e.Message
	default:
		return "loyalty: " + e.Name
	}
}

// Is makes errors.Is(err, ErrX) match any *Error with ErrX's code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// MarshalJSON writes the error object of the wire format (POLICY.md §11.3).
func (e *Error) MarshalJSON() ([]byte, error) {
	obj := map[string]any{"code": e.Name, "message": e.Message}
	if len(e.Reasons) > 0 {
		obj["reasons"] = e.Reasons
	}
	return json.Marshal(obj)
}

func sentinel(c Code) *Error { return &Error{Code: c, Name: c.Name()} }

// Sentinels, one per code, for errors.Is.
var (
	ErrNoMem               = sentinel(CodeNoMem)
	ErrInvalidArg          = sentinel(CodeInvalidArg)
	ErrIO                  = sentinel(CodeIO)
	ErrPolicy              = sentinel(CodePolicy)
	ErrInvalidEvent        = sentinel(CodeInvalidEvent)
	ErrOverflow            = sentinel(CodeOverflow)
	ErrDuplicate           = sentinel(CodeDuplicate)
	ErrOutOfOrder          = sentinel(CodeOutOfOrder)
	ErrInvalidMember       = sentinel(CodeInvalidMember)
	ErrUnknownTier         = sentinel(CodeUnknownTier)
	ErrUnknownPlan         = sentinel(CodeUnknownPlan)
	ErrUnknownBenefit      = sentinel(CodeUnknownBenefit)
	ErrPlanConflict        = sentinel(CodePlanConflict)
	ErrRedeemDisabled      = sentinel(CodeRedeemDisabled)
	ErrInsufficientPoints  = sentinel(CodeInsufficientPoints)
	ErrBelowMinPoints      = sentinel(CodeBelowMinPoints)
	ErrNotStepMultiple     = sentinel(CodeNotStepMultiple)
	ErrOverOrderShare      = sentinel(CodeOverOrderShare)
	ErrBenefitNotOpen      = sentinel(CodeBenefitNotOpen)
	ErrBenefitLimitReached = sentinel(CodeBenefitLimitReached)
	ErrInvalidQuery        = sentinel(CodeInvalidQuery)
	ErrStateTruncated      = sentinel(CodeStateTruncated)
	ErrStateChecksum       = sentinel(CodeStateChecksum)
	ErrStateVersion        = sentinel(CodeStateVersion)
	ErrStatePolicy         = sentinel(CodeStatePolicy)
	ErrJSON                = sentinel(CodeJSON)
)

// ErrClosed is returned for a Policy or Member used after Close.
var ErrClosed = errors.New("loyalty: use of a closed handle")

// newError is the one place a C code becomes a Go error.
func newError(rc C.int, message string) *Error {
	c := Code(rc)
	if message == "" {
		message = c.String()
	}
	return &Error{Code: c, Name: c.Name(), Message: message}
}
