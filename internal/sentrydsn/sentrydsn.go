// Package sentrydsn says what is wrong with a Sentry DSN without quoting it: a DSN holds
// the project's key. The sentry_errors exporter and the sentry confmap provider read the
// same DSN (SENTRY_DSN) and so explain it the same way.
package sentrydsn // import "github.com/procode-ai/otelcol-procode/internal/sentrydsn"

import (
	"errors"
	"strings"

	sentry "github.com/getsentry/sentry-go"
)

// Problem is why dsn is not a valid Sentry DSN ("empty project id", "not a URL", ...),
// "" when it is one. It never quotes the DSN.
func Problem(dsn string) string {
	if strings.TrimSpace(dsn) != dsn {
		// A DSN read from a file or a secret often ends in a line break.
		return "white space or a line break around it"
	}
	_, err := sentry.NewDsn(dsn)
	if err == nil {
		return ""
	}
	msg := err.Error()
	var perr *sentry.DsnParseError
	if errors.As(err, &perr) {
		msg = perr.Message
	}
	if strings.HasPrefix(msg, "invalid url") || strings.Contains(msg, dsn) {
		msg = "not a URL" // url.Parse errors quote the whole DSN, key included
	}
	return msg
}
