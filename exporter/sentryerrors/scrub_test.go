package sentryerrors

import (
	"strings"
	"testing"

	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/scrub"
	"github.com/procode-ai/otelcol-procode/internal/safetext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Secrets planted in every place an event takes text from. None may reach the output.
var planted = []string{
	"sk-live-AbCdEf0123456789xyz",       // bearer token / api key
	"hunter2-Passw0rd",                  // password
	"4111 1111 1111 1111",               // card number (Visa test number)
	"5500-0000-0000-0004",               // card number (Mastercard test number)
	"ghp_refreshTokenValue998877",       // refresh token
	"very-secret-cookie",                // cookie
	"s3cr3t-client-secret",              // secret
	"dbpassw0rd!",                       // URL credentials
	"tenant-private-key-material",       // custom key
	"INTERNAL-7731-ALPHA",               // custom pattern
	"find the quarterly numbers for q3", // GenAI prompt content
	"The revenue was 4.2M",              // GenAI completion content
	"user@example.com",                  // PII without send_default_pii
	"203.0.113.7",                       // client IP without send_default_pii
}

func plantTrace(t *testing.T) ptrace.Traces {
	td := agentTrace(t, "python", "ToolExecutionError", "", "python_tool_call.txt")
	rs := td.ResourceSpans().At(0)
	rs.Resource().Attributes().PutStr("api_key", "sk-live-AbCdEf0123456789xyz")
	rs.Resource().Attributes().PutStr("service.instance.password", "hunter2-Passw0rd")
	spans := rs.ScopeSpans().At(0).Spans()

	root := spans.At(0).Attributes()
	root.PutStr("url.full", "https://svc:dbpassw0rd!@agents.example.com/api/chat?token=sk-live-AbCdEf0123456789xyz")
	root.PutEmptySlice("http.request.header.authorization").AppendEmpty().SetStr("Bearer sk-live-AbCdEf0123456789xyz")
	root.PutEmptySlice("http.request.header.cookie").AppendEmpty().SetStr("sid=very-secret-cookie")
	root.PutStr("user.email", "user@example.com")
	root.PutStr("client.address", "203.0.113.7")

	llm := spans.At(2).Attributes()
	llm.PutStr("gen_ai.input.messages", `[{"role":"user","content":"find the quarterly numbers for q3"}]`)
	llm.PutStr("gen_ai.output.messages", `[{"role":"assistant","content":"The revenue was 4.2M"}]`)
	llm.PutStr("gen_ai.prompt.0.content", "find the quarterly numbers for q3")
	llm.PutStr("url.full", "https://api.openai.com/v1/chat?api_key=sk-live-AbCdEf0123456789xyz")

	tool := spans.At(4)
	ta := tool.Attributes()
	ta.PutStr("refresh_token", "ghp_refreshTokenValue998877")
	ta.PutStr("X-Api-Key", "sk-live-AbCdEf0123456789xyz")
	ta.PutStr("client.secret", "s3cr3t-client-secret")
	ta.PutStr("tenant.privateKey", "tenant-private-key-material")
	ta.PutStr("tenant.material", "tenant-private-key-material")
	ta.PutStr("note", "ticket INTERNAL-7731-ALPHA card 4111 1111 1111 1111")
	ta.PutStr("db.connection_string", "postgres://app:dbpassw0rd!@db:5432/app")
	nested := ta.PutEmptyMap("request.body")
	nested.PutStr("password", "hunter2-Passw0rd")
	nested.PutEmptySlice("cards").AppendEmpty().SetStr("5500-0000-0000-0004")
	tool.Status().SetMessage("upstream said: Authorization: Bearer sk-live-AbCdEf0123456789xyz")
	// The exception message and the traceback's code line carry secrets too.
	exc := tool.Events().At(1).Attributes()
	exc.PutStr("exception.message", "login failed for password=hunter2-Passw0rd with card 4111-1111-1111-1111")
	st := readStack(t, "python_tool_call.txt")
	st = strings.Replace(st, `response = self.client.get(self.endpoint, params={"q": query})`,
		`response = self.client.get(self.endpoint, headers={"Authorization": "Bearer sk-live-AbCdEf0123456789xyz"}, api_key="sk-live-AbCdEf0123456789xyz")`, 1)
	exc.PutStr("exception.stacktrace", st)
	// A span event before the exception (a breadcrumb) and a GenAI content event.
	ev := tool.Events().At(0).Attributes()
	ev.PutStr("cookie", "very-secret-cookie")
	ev.PutStr("detail", "retrying with token ghp_refreshTokenValue998877")
	gen := tool.Events().AppendEmpty()
	gen.SetName("gen_ai.user.message")
	gen.SetTimestamp(ts(1900))
	gen.Attributes().PutStr("content", "find the quarterly numbers for q3")
	// Breadcrumb spans: the DB span's summary with a password.
	spans.At(3).Attributes().PutStr("db.query.summary", "SELECT users WHERE password='hunter2-Passw0rd'")
	return td
}

func scrubMapper(t *testing.T, mutate func(*Config)) *mapper {
	return testMapper(t, func(c *Config) {
		c.Scrub.ExtraKeys = []string{"material"}
		c.Scrub.ExtraPatterns = []string{`INTERNAL-\d{4}-[A-Z]+`}
		c.RequestHeaders = append(c.RequestHeaders, "authorization", "cookie") // allowlisted, still scrub.Filtered
		c.Fingerprint = []string{"{{ default }}", "{{ attr:X-Api-Key }}"}
		if mutate != nil {
			mutate(c)
		}
	})
}

func TestScrubbingLeavesNoSecret(t *testing.T) {
	m := scrubMapper(t, nil)
	res := m.mapTraces(plantTrace(t))
	require.Len(t, res.events, 1)
	out := string(eventJSON(t, res.events[0]))
	for _, s := range planted {
		assert.NotContains(t, out, s)
	}
	// JSON escapes: check the raw forms too.
	assert.NotContains(t, out, "sk-live")
	assert.NotContains(t, out, "hunter2")
	// What is left is still useful.
	assert.Contains(t, out, `"[Filtered]"`)
	assert.Contains(t, out, "ToolExecutionError")
	assert.Contains(t, out, `"https://agents.example.com/api/chat"`, "the request URL keeps host and path")
	assert.Contains(t, out, "user-8841", "enduser.id is not PII-gated")

	c := res.events[0].scrubs
	assert.Positive(t, c[scrub.RuleDenyKey])
	assert.Positive(t, c[scrub.RuleCustomKey])
	assert.Positive(t, c[scrub.RuleBearerToken])
	assert.Positive(t, c[scrub.RuleCardNumber])
	assert.Positive(t, c[scrub.RuleSecretPair])
	assert.Positive(t, c[scrub.RuleURLCredentials])
	assert.Positive(t, c[scrub.RuleCustomPattern])
	assert.Positive(t, c[scrub.RuleGenAIContent])
}

func TestScrubbingLogs(t *testing.T) {
	ld := errorLog(t, "python", "ValueError", "bad card 4111111111111111", "python_tool_call.txt")
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(1)
	lr.Body().SetStr("payment failed: Authorization: Bearer sk-live-AbCdEf0123456789xyz password=hunter2-Passw0rd")
	lr.Attributes().PutStr("session_id", "very-secret-cookie")
	prev := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	prev.Body().SetStr("calling gateway with api_key=sk-live-AbCdEf0123456789xyz")
	content := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty()
	content.SetEventName("gen_ai.user.message")
	content.SetTraceID(traceID)
	content.SetTimestamp(ts(150))
	content.SetSeverityNumber(plog.SeverityNumberInfo)
	content.Body().SetStr("find the quarterly numbers for q3")

	res := scrubMapper(t, nil).mapLogs(ld)
	require.Len(t, res.events, 1)
	out := string(eventJSON(t, res.events[0]))
	for _, s := range planted {
		assert.NotContains(t, out, s)
	}
	assert.NotContains(t, out, "4111111111111111")
	assert.Contains(t, out, "payment failed")
}

func TestPIIAndGenAIContentWhenAllowed(t *testing.T) {
	m := scrubMapper(t, func(c *Config) {
		c.SendDefaultPII = true
		c.IncludeGenAIContent = true
	})
	ld := errorLog(t, "python", "ValueError", "x", "python_tool_call.txt")
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(1)
	lr.Attributes().PutStr("user.email", "user@example.com")
	lr.Attributes().PutStr("client.address", "203.0.113.7")
	lr.Attributes().PutStr("gen_ai.input.messages", "find the quarterly numbers for q3")
	res := m.mapLogs(ld)
	require.Len(t, res.events, 1)
	ev := res.events[0].event
	assert.Equal(t, "user@example.com", ev.User.Email)
	assert.Equal(t, "203.0.113.7", ev.User.IPAddress)
	assert.Contains(t, string(eventJSON(t, res.events[0])), "find the quarterly numbers for q3")
}

// TestOneDenyList: the exporter and safetext (the collector's own logs and errors) read
// one deny list, so a key=value pair is scrub.Filtered by both or by neither.
func TestOneDenyList(t *testing.T) {
	s := newScrubber(ScrubConfig{})
	for _, k := range []string{"authorization", "Set-Cookie", "password", "db.passwd", "client_secret", "access_token",
		"refresh_token", "api_key", "apiKey", "X-Api-Key", "private_key", "token", "clientSecret", "accesstoken",
		"xapikey", "dbpassword", "secrets", "cookies", "password2", "session_id", "sentry_key", "dsn",
		"gen_ai.usage.input_tokens", "author", "keyboard", "http.route", "secretary_count", "llm.usage.total_tokens",
		"gen_ai.request.max_tokens", "cookiecutter.version", "passwordless"} {
		_, deny := s.KeyRule(k)
		assert.Equal(t, safetext.SecretKey(k), deny, k)
		var c scrub.Counts
		pair := k + "=v4lue9"
		assert.Equal(t, strings.Contains(safetext.Redact(pair), scrub.Filtered), strings.Contains(s.Text(pair, &c), scrub.Filtered), pair)
	}
}
