// Command cgo-demo is a small HTTP service that calls C through cgo: it serves /health,
// /version (with the C library's version) and /hash?text=... (FNV-1a, computed in C). Like
// ci-demo-go it checks its own health with -healthcheck (no shell or curl in the runtime image)
// and prints its version with -version. It needs no configuration file: it listens on -port
// (default 8080) and reports $APP_ENV as its environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

// Set at build time with -ldflags "-X main.branch=... -X main.commit=... -X main.version=...".
var (
	branch  = "unknown"
	commit  = "unknown"
	version = "dev"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cgo-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", 8080, "TCP port to listen on")
	healthcheck := fs.Bool("healthcheck", false, "GET http://127.0.0.1:<port>/health; exit 0 on 200, else 1")
	showVersion := fs.Bool("version", false, "print version information and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %q\n", fs.Args())
		return 2
	}
	if *port < 1 || *port > 65535 {
		fmt.Fprintf(stderr, "-port must be from 1 to 65535, got %d\n", *port)
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stdout, "cgo-demo %s (branch %s, commit %s, %s %s/%s, glibc %s)\n",
			version, branch, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH, libcVersion())
		return 0
	}
	if *healthcheck {
		if err := checkHealth(fmt.Sprintf("http://127.0.0.1:%d/health", *port), 3*time.Second); err != nil {
			fmt.Fprintln(stderr, "unhealthy:", err)
			return 1
		}
		return 0
	}

	log := slog.New(slog.NewJSONHandler(stdout, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *port, envName(), log); err != nil {
		log.Error("server failed", "error", err)
		return 1
	}
	return 0
}

// envName is the deployment environment the image was built for ($APP_ENV), "dev" if unset.
func envName() string {
	if env := os.Getenv("APP_ENV"); env != "" {
		return env
	}
	return "dev"
}

// serve runs the HTTP server until ctx is cancelled, then shuts it down gracefully.
func serve(ctx context.Context, port int, env string, log *slog.Logger) error {
	srv := &http.Server{
		Addr:              fmt.Sprintf(":%d", port),
		Handler:           newHandler(env),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("listening", "addr", srv.Addr, "env", env, "version", version, "branch", branch,
		"commit", commit, "glibc", libcVersion())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// checkHealth returns nil when url answers 200 OK within timeout.
func checkHealth(url string, timeout time.Duration) error {
	client := &http.Client{Timeout: timeout}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
