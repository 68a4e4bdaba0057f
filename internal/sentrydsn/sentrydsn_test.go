package sentrydsn

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestProblem(t *testing.T) {
	assert.Empty(t, Problem("https://secretkey@o1.ingest.sentry.io/42"))
	assert.Empty(t, Problem("http://secretkey@sentry.internal:9000/sentry/7"))
	for dsn, want := range map[string]string{
		"https://secretkey@o1.ingest.sentry.io/42\n": "white space or a line break around it",
		" https://secretkey@o1.ingest.sentry.io/42":  "white space or a line break around it",
		"https://secretkey@o1.ingest.sentry.io/":     "empty project id",
		"ftp://secretkey@host/1":                     "invalid scheme",
		"https://secretkey@host:http/1":              "not a URL",
		"https://host/1":                             "empty username",
	} {
		got := Problem(dsn)
		assert.Equal(t, want, got, "%q", dsn)
		assert.NotContains(t, got, "secretkey")
	}
}
