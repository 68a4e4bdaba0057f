package logscrub

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// span stands for OTTL's TransformContext: an object that logs a whole span.
type span struct{ attrs map[string]string }

func (s span) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	for k, v := range s.attrs {
		enc.AddString(k, v)
	}
	return nil
}

// ottlStyle is how OTTL logs it: inlined, writing the TransformContext key itself.
type ottlStyle struct{ s span }

func (o ottlStyle) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return enc.AddObject("TransformContext", o.s)
}

type stringer string

func (s stringer) String() string { return string(s) }

func TestScrubsContentAndSecrets(t *testing.T) {
	obs, logs := observer.New(zapcore.DebugLevel)
	logger := zap.New(Wrap(obs)).With(zap.String("endpoint", "https://ingest.example/v1?api_key=k-with"))
	logger.Debug("condition evaluation result for https://u:p@h.example/x?token=t-in-msg",
		zap.Object("TransformContext", span{map[string]string{"llm.api_key": "sk-in-span"}}),
		zap.Inline(ottlStyle{span{map[string]string{"url.full": "https://x/?key=k-inline"}}}),
		zap.String("condition", `span.attributes["x"] != nil`),
		zap.Error(errors.New(`Post "https://h.example/v1/traces?key=k-in-error": dial tcp: refused`)),
		zap.Stringer("header", stringer("Authorization: Bearer tok-in-stringer")),
		zap.Int("count", 3))

	require.Equal(t, 1, logs.Len())
	e := logs.All()[0]
	assert.Equal(t, "condition evaluation result for https://h.example/x", e.Message)
	fields := e.ContextMap()
	assert.Equal(t, Omitted, fields["TransformContext"])
	assert.Equal(t, `span.attributes["x"] != nil`, fields["condition"], "text without secrets is kept as it is")
	assert.Equal(t, `Post "https://h.example/v1/traces": dial tcp: refused`, fields["error"])
	assert.Equal(t, "Authorization: [Filtered] [Filtered]", fields["header"])
	assert.EqualValues(t, 3, fields["count"])
	assert.Equal(t, "https://ingest.example/v1", fields["endpoint"], "fields added with With are scrubbed too")
	for _, secret := range []string{"sk-in-span", "k-inline", "t-in-msg", "k-in-error", "tok-in-stringer", "k-with"} {
		assert.NotContains(t, e.Message+" "+fmt.Sprint(fields), secret)
	}
}

// The inner core still decides: its level and its sampling apply, and each accepted
// entry is written once.
func TestInnerCoreDecides(t *testing.T) {
	obs, logs := observer.New(zapcore.InfoLevel)
	sampled := zapcore.NewSamplerWithOptions(obs, time.Hour, 2, 0)
	logger := zap.New(Wrap(sampled))
	logger.Debug("below the level")
	for i := 0; i < 5; i++ {
		logger.Info("repeated", zap.String("password", "hunter2 and more"))
	}
	require.Equal(t, 2, logs.Len(), "the sampler keeps the first two of five")
	for _, e := range logs.All() {
		assert.Equal(t, "hunter2 and more", e.ContextMap()["password"], "a value alone is no key=value pair: only text is scrubbed, not keys")
	}
	assert.True(t, logger.Core().Enabled(zapcore.InfoLevel))
	assert.False(t, logger.Core().Enabled(zapcore.DebugLevel))
	require.NoError(t, logger.Sync())
}
