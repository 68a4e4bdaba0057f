//go:build procode_dist

// This file is copied into the ocb-generated sources in _build by `make build`, next to
// a copy of config/otelcol.yaml, so that the binary runs that configuration when it is
// started without --config.

package main

import (
	_ "embed"
	"os"

	"github.com/procode-ai/otelcol-procode/internal/defaultconfig"
)

//go:embed otelcol.yaml
var embeddedConfig string

func init() {
	os.Args = defaultconfig.Args(os.Args, embeddedConfig)
}
