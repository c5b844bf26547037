package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cfg, err := Parse(strings.NewReader("# comment\nenv: prd\nport: 9090 # trailing\nmessage: \"hi: there\"\nunknown: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Env != "prd" || cfg.Port != 9090 || cfg.Message != "hi: there" {
		t.Fatalf("unexpected config: %+v", cfg)
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"port: 0\n", "port: http\n", "port: 70000\n", "no colon here\n"} {
		if _, err := Parse(strings.NewReader(in)); err == nil {
			t.Errorf("Parse(%q): want error", in)
		}
	}
}

func TestShippedConfigs(t *testing.T) {
	for _, env := range []string{"dev", "test", "prd"} {
		path := filepath.Join("..", "..", "etc", "app_"+env+".yaml")
		cfg, err := Load(path)
		if err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		if cfg.Env != env {
			t.Errorf("%s: env = %q", path, cfg.Env)
		}
		if cfg.Port != DefaultPort {
			t.Errorf("%s: port = %d, the image exposes %d", path, cfg.Port, DefaultPort)
		}
	}
	// The seed shipped app_prod.yaml while looking for app_prd.yaml.
	if _, err := os.Stat(filepath.Join("..", "..", "etc", "app_prod.yaml")); err == nil {
		t.Error("etc/app_prod.yaml must not exist: APP_ENV=prd reads etc/app_prd.yaml")
	}
}
