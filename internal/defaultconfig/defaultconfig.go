// Package defaultconfig lets the otelcol-procode binary run with its embedded default
// configuration when the user gives no --config flag, so that the bare binary starts.
package defaultconfig // import "github.com/procode-ai/otelcol-procode/internal/defaultconfig"

import "strings"

// Args returns the command line with the embedded default configuration added as a
// --config flag, when the command runs or validates the collector and the user gave no
// --config of their own. Any other command line is returned unchanged.
func Args(args []string, embeddedYAML string) []string {
	if len(args) == 0 || !runsCollector(args[1:]) || hasConfigFlag(args[1:]) {
		return args
	}
	out := make([]string, 0, len(args)+1)
	out = append(out, args...)
	return append(out, "--config=yaml:"+embeddedYAML)
}

// runsCollector reports whether the arguments start the collector (no subcommand) or
// validate its configuration.
func runsCollector(rest []string) bool {
	for _, a := range rest {
		switch {
		case a == "-h" || a == "--help" || a == "-v" || a == "--version":
			return false
		case strings.HasPrefix(a, "-"):
			continue
		default:
			// The first positional word is a subcommand.
			return a == "validate"
		}
	}
	return true
}

func hasConfigFlag(rest []string) bool {
	for _, a := range rest {
		if a == "--config" || a == "-config" || strings.HasPrefix(a, "--config=") || strings.HasPrefix(a, "-config=") {
			return true
		}
	}
	return false
}
