package defaultconfig

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestArgs(t *testing.T) {
	const y = "receivers: {}"
	withDefault := func(args ...string) []string { return append(args, "--config=yaml:"+y) }
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"bare binary runs the default", []string{"otelcol-procode"}, withDefault("otelcol-procode")},
		{"set flags still get the default", []string{"bin", "--set=processors::batch::timeout=2s"}, withDefault("bin", "--set=processors::batch::timeout=2s")},
		{"validate without config", []string{"bin", "validate"}, withDefault("bin", "validate")},
		{"explicit config wins", []string{"bin", "--config", "x.yaml"}, []string{"bin", "--config", "x.yaml"}},
		{"explicit config= wins", []string{"bin", "--config=x.yaml"}, []string{"bin", "--config=x.yaml"}},
		{"validate with config", []string{"bin", "validate", "--config=x.yaml"}, []string{"bin", "validate", "--config=x.yaml"}},
		{"components untouched", []string{"bin", "components"}, []string{"bin", "components"}},
		{"help untouched", []string{"bin", "--help"}, []string{"bin", "--help"}},
		{"version untouched", []string{"bin", "-v"}, []string{"bin", "-v"}},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Args(tt.in, y))
		})
	}
}
