//go:build !loyalty_pkgconfig

package loyalty

// By default the package builds inside a libloyalty checkout: the header from
// include/ and the shared library from the Makefile's default build folder
// (run `make lib` at the top first). Build with -tags loyalty_pkgconfig to use
// an installed library through pkg-config instead (see README.md).

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../build -lloyalty -Wl,-rpath,${SRCDIR}/../../build
*/
import "C"
