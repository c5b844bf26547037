// Command ci-demo-go is a small HTTP service used to demonstrate the bakegen
// image family: it serves /health and /version, reads its configuration from
// the file named by -f (default: $APP_CONFIG) and can check its own health
// (-healthcheck) without a shell or curl in the runtime image.
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

	"example.com/ci-demo-go/internal/config"
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
	fs := flag.NewFlagSet("ci-demo-go", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("f", os.Getenv("APP_CONFIG"), "configuration file (default: $APP_CONFIG)")
	healthcheck := fs.Bool("healthcheck", false, "GET http://127.0.0.1:<port>/health; exit 0 on 200, else 1")
	showVersion := fs.Bool("version", false, "print version information and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %q\n", fs.Args())
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stdout, "ci-demo-go %s (branch %s, commit %s, %s %s/%s)\n",
			version, branch, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	}

	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *healthcheck {
		if err := checkHealth(fmt.Sprintf("http://127.0.0.1:%d/health", cfg.Port), 3*time.Second); err != nil {
			fmt.Fprintln(stderr, "unhealthy:", err)
			return 1
		}
		return 0
	}

	log := slog.New(slog.NewJSONHandler(stdout, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("server failed", "error", err)
		return 1
	}
	return 0
}

// serve runs the HTTP server until ctx is cancelled, then shuts it down gracefully.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	srv := &http.Server{
		Addr:              fmt.Sprintf(":%d", cfg.Port),
		Handler:           newHandler(cfg),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("listening", "addr", srv.Addr, "env", cfg.Env, "config", cfg.Path,
		"version", version, "branch", branch, "commit", commit)

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
