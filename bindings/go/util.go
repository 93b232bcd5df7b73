package loyalty

/*
#include <stdlib.h>
*/
import "C"

import (
	"strings"
	"unsafe"
)

// cString copies s into C memory (free with C.free). A NUL inside s would
// silently cut it, so it is refused.
func cString(s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, &Error{Code: CodeInvalidArg, Name: CodeInvalidArg.Name(),
			Message: "a string passed to libloyalty may not contain NUL"}
	}
	return C.CString(s), nil
}

// cStrings collects C copies of strings for one call and frees them together.
type cStrings struct {
	ptrs []*C.char
	err  error
}

// add returns a C copy of s; "" gives NULL when nullIfEmpty (an optional field).
func (cs *cStrings) add(s string, nullIfEmpty bool) *C.char {
	if nullIfEmpty && s == "" {
		return nil
	}
	p, err := cString(s)
	if err != nil {
		if cs.err == nil {
			cs.err = err
		}
		return nil
	}
	cs.ptrs = append(cs.ptrs, p)
	return p
}

func (cs *cStrings) free() {
	for _, p := range cs.ptrs {
		C.free(unsafe.Pointer(p))
	}
	cs.ptrs = nil
}

// bytesPtr points C at a Go byte slice for the duration of one call (the
// library copies what it keeps); NULL for an empty slice.
func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(b))
}
