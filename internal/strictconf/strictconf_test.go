package strictconf

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/confmap"
)

type inner struct {
	Path string `mapstructure:"path"`
}

type testConfig struct {
	Server confighttp.ServerConfig `mapstructure:",squash"`
	Paths  inner                   `mapstructure:"paths"`
	Labels map[string]string       `mapstructure:"labels"`
	Ptr    *inner                  `mapstructure:"ptr"`
	Routes map[string]inner        `mapstructure:"routes"`
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want string
	}{
		{"all known", map[string]any{"endpoint": "x:1", "paths": map[string]any{"path": "/"}, "labels": map[string]any{"anything": "goes"}, "ptr": map[string]any{"path": "/"}}, ""},
		{"squashed server keys known", map[string]any{"tls": map[string]any{"cert_file": "c"}, "max_request_body_size": 5}, ""},
		{"top-level typo", map[string]any{"endpont": "x:1"}, "has invalid keys: endpont"},
		{"nested typo", map[string]any{"paths": map[string]any{"pth": "/"}}, "has invalid keys: paths::pth"},
		{"typo under optional tls", map[string]any{"tls": map[string]any{"cert_fil": "c"}}, "has invalid keys: tls::cert_fil"},
		{"typo under pointer", map[string]any{"ptr": map[string]any{"x": 1}}, "has invalid keys: ptr::x"},
		{"map of sections", map[string]any{"routes": map[string]any{"a/b": map[string]any{"path": "/"}}}, ""},
		{"typo in a map's section", map[string]any{"routes": map[string]any{"a/b": map[string]any{"pat": "/"}}}, "has invalid keys: routes::a/b::pat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(confmap.NewFromStringMap(tt.in), &testConfig{})
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestKeys(t *testing.T) {
	keys := Keys(testConfig{})
	assert.Contains(t, keys, "endpoint", "squashed keys are listed")
	assert.Contains(t, keys, "routes")
	assert.NotContains(t, keys, "server")
	assert.IsIncreasing(t, keys)
	assert.Nil(t, Keys(3))
}
