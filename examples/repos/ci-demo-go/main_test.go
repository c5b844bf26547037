package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"example.com/ci-demo-go/internal/config"
)

func TestHealth(t *testing.T) {
	srv := httptest.NewServer(newHandler(config.Default()))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("GET /health = %d %q, want 200 \"ok\"", resp.StatusCode, body)
	}
}

func TestVersion(t *testing.T) {
	oldBranch, oldCommit, oldVersion := branch, commit, version
	branch, commit, version = "main", "abc1234", "1.2.3"
	defer func() { branch, commit, version = oldBranch, oldCommit, oldVersion }()

	rec := httptest.NewRecorder()
	newHandler(config.Config{Env: "test", Port: 8080}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/version", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /version = %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var got versionInfo
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Branch != "main" || got.Commit != "abc1234" || got.Version != "1.2.3" || got.Env != "test" {
		t.Errorf("GET /version = %+v", got)
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	h := newHandler(config.Default())
	for _, tc := range []struct{ method, path string }{{"GET", "/nope"}, {"POST", "/health"}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code == http.StatusOK {
			t.Errorf("%s %s = 200, want an error status", tc.method, tc.path)
		}
	}
}

func TestCheckHealth(t *testing.T) {
	ok := httptest.NewServer(newHandler(config.Default()))
	defer ok.Close()
	if err := checkHealth(ok.URL+"/health", time.Second); err != nil {
		t.Errorf("healthy server: %v", err)
	}

	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer bad.Close()
	if err := checkHealth(bad.URL+"/health", time.Second); err == nil {
		t.Error("503 server: want error")
	}
}

func TestRunFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-version"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "ci-demo-go dev") {
		t.Errorf("-version: code %d, output %q", code, out.String())
	}
	if code := run([]string{"-f", "does-not-exist.yaml"}, &out, &errOut); code != 1 {
		t.Errorf("missing config: code %d, want 1", code)
	}
	if code := run([]string{"-bogus"}, &out, &errOut); code != 2 {
		t.Errorf("bad flag: code %d, want 2", code)
	}
}
