package sentryevent

import (
	"encoding/json"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	alphabet := []byte("abcXYZ019 \"\\\t\n\r\x00\x01\x1f\x7f<>&/é€\xff\xc3")
	for i := 0; i < 20000; i++ {
		b := make([]byte, r.Intn(40))
		for j := range b {
			if r.Intn(4) == 0 {
				b[j] = byte(r.Intn(256))
			} else {
				b[j] = alphabet[r.Intn(len(alphabet))]
			}
		}
		s := string(b)
		ours := AppendString(nil, s)
		var back string
		require.NoError(t, json.Unmarshal(ours, &back), "%q -> %s", s, ours)
		want, _ := json.Marshal(s) // replaces invalid UTF-8 with U+FFFD, as we do
		var wantBack string
		require.NoError(t, json.Unmarshal(want, &wantBack))
		assert.Equal(t, wantBack, back, "%q", s)
	}
}
