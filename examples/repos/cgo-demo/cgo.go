package main

// The C half of the service: a hash function written in C and the C library's own version,
// both called through cgo. Built with CGO_ENABLED=1 against the target platform's C library
// (glibc), so the binary needs a runtime image with that library: the Debian runtime.

/*
#include <stddef.h>
#include <stdint.h>
#include <gnu/libc-version.h>

// cgo_demo_fnv1a32 is the 32-bit FNV-1a hash of the n bytes at p.
static uint32_t cgo_demo_fnv1a32(const unsigned char *p, size_t n) {
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}
*/
import "C"

import "unsafe"

// fnv1a32 hashes b in C.
func fnv1a32(b []byte) uint32 {
	if len(b) == 0 {
		return uint32(C.cgo_demo_fnv1a32(nil, 0))
	}
	return uint32(C.cgo_demo_fnv1a32((*C.uchar)(unsafe.Pointer(&b[0])), C.size_t(len(b))))
}

// libcVersion is the version of the C library the binary runs with ("2.36").
func libcVersion() string {
	return C.GoString(C.gnu_get_libc_version())
}
