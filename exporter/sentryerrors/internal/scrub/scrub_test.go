package scrub

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestScrubText(t *testing.T) {
	s := New(nil, nil)
	tests := []struct{ in, want string }{
		{"Authorization: Bearer abc.def-ghi_123", "Authorization: Bearer [Filtered]"},
		{"header was Bearer abcdefgh12", "header was Bearer [Filtered]"},
		{"invalid token provided", "invalid token provided"},
		{"gen_ai.usage.input_tokens=1200", "gen_ai.usage.input_tokens=1200"},
		{"max_tokens: 4096", "max_tokens: 4096"},
		{`{"password": "x y z"}`, `{"password": "[Filtered]"}`},
		{"api_key='sk-1'", "api_key='[Filtered]'"},
		{"x-api-key=abc&user=1", "x-api-key=[Filtered]&user=1"},
		{"card 4242 4242 4242 4242 ok", "card [Filtered] ok"},
		{"order 1234567890123 not a card", "order 1234567890123 not a card"},
		{"redis://:pa55@cache:6379/0", "redis://:[Filtered]@cache:6379/0"},
		{"plain text", "plain text"},
		// What a review found past the scrubber.
		{`msg={\"password\":\"hunter2\",\"user\":\"ann\"}`, `msg={\"password\":\"[Filtered]\",\"user\":\"ann\"}`},
		{`{"password":"ab\"hunter2"}`, `{"password":"[Filtered]"}`},
		{`{\"password\":\"ab\\\"hunter2\"}`, `{\"password\":\"[Filtered]\"}`},
		{"accesstoken=abc123 authtoken=def456", "accesstoken=[Filtered] authtoken=[Filtered]"},
		{"clientsecret=s1 secrets=s2 password1=s3 XApiKey=s4", "clientsecret=[Filtered] secrets=[Filtered] password1=[Filtered] XApiKey=[Filtered]"},
		{"Cookie: lang=en; connect.sid=s%3Aabc123\nnext", "Cookie: [Filtered]\nnext"},
		{"clone https://ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com/o/r", "clone https://[Filtered]@github.com/o/r"},
		{"ssh://git@github.com/o/r", "ssh://git@github.com/o/r"},
		{"redis://default:p@ss@cache:6379", "redis://default:[Filtered]@cache:6379"},
		{"secretary_count=3 max_tokens=10 token_usage ok", "secretary_count=3 max_tokens=10 token_usage ok"},
	}
	for _, tt := range tests {
		var c Counts
		assert.Equal(t, tt.want, s.Text(tt.in, &c), tt.in)
	}
}
