//go:build loyalty_pkgconfig

package loyalty

// An installed libloyalty (make install), found through its loyalty.pc.

/*
#cgo pkg-config: loyalty
*/
import "C"
