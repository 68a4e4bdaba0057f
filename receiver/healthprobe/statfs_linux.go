package healthprobe // import "github.com/procode-ai/otelcol-procode/receiver/healthprobe"

import "golang.org/x/sys/unix"

// statFilesystem returns the bytes available to unprivileged users and the size of the
// filesystem holding path.
func statFilesystem(path string) (free, total uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, 0, err
	}
	bsize := uint64(st.Bsize) //nolint:gosec // block sizes are positive
	return st.Bavail * bsize, st.Blocks * bsize, nil
}
