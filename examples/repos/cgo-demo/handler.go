package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
)

// versionInfo is the body of GET /version.
type versionInfo struct {
	Branch   string `json:"branch"`
	Commit   string `json:"commit"`
	Version  string `json:"version"`
	Go       string `json:"go"`
	Env      string `json:"env"`
	Platform string `json:"platform"`
	Libc     string `json:"libc"` // the C library's version, read through cgo
}

// hashInfo is the body of GET /hash?text=...
type hashInfo struct {
	Text    string `json:"text"`
	FNV1a32 string `json:"fnv1a32"`
}

func newHandler(env string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, versionInfo{
			Branch: branch, Commit: commit, Version: version, Go: runtime.Version(), Env: env,
			Platform: runtime.GOOS + "/" + runtime.GOARCH, Libc: libcVersion(),
		})
	})
	mux.HandleFunc("GET /hash", func(w http.ResponseWriter, r *http.Request) {
		text := r.URL.Query().Get("text")
		writeJSON(w, hashInfo{Text: text, FNV1a32: fmt.Sprintf("%08x", fnv1a32([]byte(text)))})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
