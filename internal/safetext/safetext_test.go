package safetext

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "connection refused", "connection refused"},
		{"url credentials", `Get "https://user:hunter2@api.example.com/v1/models?key=abc": dial tcp: refused`,
			`Get "https://api.example.com/v1/models": dial tcp: refused`},
		{"url query only", "post http://localhost:4318/v1/traces?token=xyz failed", "post http://localhost:4318/v1/traces failed"},
		{"postgres dsn", "connect postgres://app:s3cr3t@db:5432/app?sslmode=disable: timeout", "connect postgres://db:5432/app timeout"},
		{"bearer", "upstream said: Authorization Bearer sk-live-abcdef123456", "upstream said: Authorization Bearer [Filtered]"},
		{"kv password", "password=hunter2 user=app", "password=[Filtered] user=app"},
		{"kv api key quoted", `api_key: "sk-123456"`, `api_key: [Filtered]`},
		{"token counts are no secret", "max_tokens=4096 input_tokens: 12", "max_tokens=4096 input_tokens: 12"},
		{"session and cookie", "session_id=abc123 cookie: a=b", "session_id=[Filtered] cookie: [Filtered]"},
		{"whitespace folded", "a\n\tb   c", "a b c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Clean(tt.in))
		})
	}
}

// TestRedactGluedKeys: a key whose secret word is run together with another
// ("dbpwd=...") is still filtered, as Redact's key=value pattern did before the deny
// list was shared with the sentry_errors exporter.
func TestRedactGluedKeys(t *testing.T) {
	for _, s := range []string{"dbpwd=hunter2", "secretkey=hunter2", "proxyauthorization=hunter2", "sentrydsn=hunter2"} {
		assert.NotContains(t, Redact(s), "hunter2", s)
	}
}

func TestRedactKeepsLayout(t *testing.T) {
	in := "line one: Authorization: Bearer sk-live-abcdef123456\n\tsee https://u:p@h.example/x?token=1 and password=hunter2 " + strings.Repeat("x", 400)
	got := Redact(in)
	assert.Equal(t, "line one: Authorization: [Filtered] [Filtered]\n\tsee https://h.example/x and password=[Filtered] "+strings.Repeat("x", 400), got)
	assert.Equal(t, "plain text, nothing to do", Redact("plain text, nothing to do"))
	assert.Equal(t, "", Redact(""))
}

func TestCleanBoundsLength(t *testing.T) {
	long := strings.Repeat("é", 1000)
	got := Clean(long)
	assert.LessOrEqual(t, len(got), MaxLen)
	assert.True(t, utf8.ValidString(got))
	assert.True(t, strings.HasSuffix(got, "…"))
}

func TestError(t *testing.T) {
	assert.Empty(t, Error(nil))
	assert.Equal(t, "token=[Filtered]", Error(errors.New("token=abcdef")))
}

func FuzzClean(f *testing.F) {
	f.Add("https://u:p@h/x?y=z")
	f.Add("Bearer abcdefgh password=1")
	f.Fuzz(func(t *testing.T, s string) {
		got := Clean(s)
		if len(got) > MaxLen {
			t.Fatalf("Clean returned %d bytes, more than %d", len(got), MaxLen)
		}
	})
}

func TestSecretKey(t *testing.T) {
	for _, k := range []string{"password", "X-Api-Key", "apiKey", "api_key", "clientSecret", "accesstoken", "XApiKey",
		"secrets", "password2", "Authorization", "set-cookie", "sentry_key", "session_id", "db.dsn", "private_key",
		"db.passwd", "client_secret", "refresh_token", "http.request.header.authorization", "token", "cookies", "dbpassword",
		// one word, as the old key=value pattern of Redact filtered them
		"dbpwd", "secretkey", "awssecretkey", "sentrydsn", "proxyauthorization", "myprivatekey"} {
		assert.True(t, SecretKey(k), k)
	}
	for _, k := range []string{"gen_ai.usage.input_tokens", "max_tokens", "tokens", "secretary_count", "keyboard", "monkey", "user.id",
		"author", "http.route", "llm.usage.total_tokens", "cookiecutter.version", "passwordless"} {
		assert.False(t, SecretKey(k), k)
	}
}
