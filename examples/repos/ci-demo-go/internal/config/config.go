// Package config reads the service's small YAML-like configuration file.
//
// Only flat "key: value" lines are understood; blank lines and lines whose
// first non-blank character is '#' are ignored, and a value may be wrapped in
// single or double quotes. This keeps the sample free of third-party modules.
package config

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// DefaultPort is the port used when the configuration does not set one.
const DefaultPort = 8080

// Config is the service configuration.
type Config struct {
	Env     string // deployment environment: dev, test, prd
	Port    int    // TCP port the HTTP server listens on
	Message string // greeting returned by "/"
	Path    string // file the configuration was read from ("" for defaults)
}

// Default returns the configuration used when no file is given.
func Default() Config {
	return Config{Env: "dev", Port: DefaultPort, Message: "hello"}
}

// Load reads the configuration file at path. An empty path returns Default().
func Load(path string) (Config, error) {
	if path == "" {
		return Default(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	cfg, err := Parse(f)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	cfg.Path = path
	return cfg, nil
}

// Parse reads "key: value" lines from r on top of Default().
func Parse(r io.Reader) (Config, error) {
	cfg := Default()
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || line == "---" {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return Config{}, fmt.Errorf("line %d: want \"key: value\", got %q", n, line)
		}
		key = strings.ToLower(strings.TrimSpace(key))
		value = unquote(stripComment(strings.TrimSpace(value)))
		switch key {
		case "env":
			cfg.Env = value
		case "port":
			p, err := strconv.Atoi(value)
			if err != nil || p < 1 || p > 65535 {
				return Config{}, fmt.Errorf("line %d: port must be a number from 1 to 65535, got %q", n, value)
			}
			cfg.Port = p
		case "message":
			cfg.Message = value
		default:
			// Unknown keys are ignored so that newer files work with older binaries.
		}
	}
	if err := sc.Err(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// stripComment removes a trailing " # comment" from an unquoted value.
func stripComment(v string) string {
	if strings.HasPrefix(v, `"`) || strings.HasPrefix(v, `'`) {
		return v
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
