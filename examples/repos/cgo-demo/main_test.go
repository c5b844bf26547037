package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The C hash must agree with Go's hash/fnv on every input, empty and non-ASCII included.
func TestFNV1a32InC(t *testing.T) {
	for _, s := range []string{"", "a", "hello", "cgo-demo", "héllo wörld", strings.Repeat("x", 10000)} {
		h := fnv.New32a()
		_, _ = h.Write([]byte(s))
		if got, want := fnv1a32([]byte(s)), h.Sum32(); got != want {
			t.Errorf("fnv1a32(%.20q) = %08x, want %08x", s, got, want)
		}
	}
}

func TestLibcVersion(t *testing.T) {
	var major, minor int
	if _, err := fmt.Sscanf(libcVersion(), "%d.%d", &major, &minor); err != nil || major != 2 {
		t.Fatalf("libcVersion() = %q, want 2.N", libcVersion())
	}
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func TestHealth(t *testing.T) {
	rec := get(t, newHandler("dev"), "/health")
	if rec.Code != http.StatusOK || rec.Body.String() != "ok" {
		t.Fatalf("GET /health = %d %q, want 200 \"ok\"", rec.Code, rec.Body.String())
	}
}

func TestVersion(t *testing.T) {
	oldBranch, oldCommit, oldVersion := branch, commit, version
	branch, commit, version = "main", "abc1234", "1.2.3"
	defer func() { branch, commit, version = oldBranch, oldCommit, oldVersion }()

	rec := get(t, newHandler("test"), "/version")
	var got versionInfo
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Branch != "main" || got.Commit != "abc1234" || got.Version != "1.2.3" || got.Env != "test" ||
		got.Libc != libcVersion() || !strings.HasPrefix(got.Platform, "linux/") {
		t.Errorf("GET /version = %+v", got)
	}
}

func TestHash(t *testing.T) {
	rec := get(t, newHandler("dev"), "/hash?text=hello")
	var got hashInfo
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got != (hashInfo{Text: "hello", FNV1a32: "4f9f2cab"}) {
		t.Errorf("GET /hash?text=hello = %+v", got)
	}
}

func TestFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-version"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "glibc 2.") {
		t.Errorf("-version: code %d, out %q, err %q", code, out.String(), errb.String())
	}
	if code := run([]string{"-port", "0"}, &out, &errb); code != 2 {
		t.Errorf("-port 0: code %d, want 2", code)
	}
	if code := run([]string{"extra"}, &out, &errb); code != 2 {
		t.Errorf("extra argument: code %d, want 2", code)
	}
	// Nothing listens on port 1: the health check must fail, not hang.
	if code := run([]string{"-healthcheck", "-port", "1"}, &out, &errb); code != 1 {
		t.Errorf("-healthcheck on a closed port: code %d, want 1", code)
	}
}
