//go:build !linux

package healthprobe // import "github.com/procode-ai/otelcol-procode/receiver/healthprobe"

import "errors"

func statFilesystem(string) (uint64, uint64, error) {
	return 0, 0, errors.New("disk probes are supported on Linux only")
}
