package pricing

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// randomRegex writes a small regular expression in the syntax JavaScript and Go share:
// literals, classes, groups, alternation at every level, quantifiers and $.
func randomRegex(rng *rand.Rand, depth int) string {
	var b strings.Builder
	for range 1 + rng.IntN(3) {
		switch k := rng.IntN(10); {
		case k < 4:
			b.WriteByte("ab-x/"[rng.IntN(5)])
		case k == 4:
			b.WriteString([]string{".", "[ab]", "[^/]", `\d`, `\)`}[rng.IntN(5)])
		case k == 5 && depth > 0:
			b.WriteString("(?:" + randomRegex(rng, depth-1) + ")")
		case k == 6 && depth > 0:
			b.WriteString(randomRegex(rng, depth-1) + "|" + randomRegex(rng, depth-1))
		case k == 7:
			b.WriteString("$")
		default:
			b.WriteByte("ab"[rng.IntN(2)])
		}
		if rng.IntN(4) == 0 {
			b.WriteByte("?*+"[rng.IntN(3)])
		}
	}
	return b.String()
}

// A rule with a leading negative lookahead, ^(?!X)rest, matches exactly the names it
// matches in JavaScript, the engine of genai-prices' own npm package (which tests the
// lower-cased name with new RegExp(regex).test). Go's regexp has no lookahead, so this
// is the reference: random expressions and names, one node run. An expression Go
// refuses to compile is not a wrong price (the file is refused), but most must compile.
func TestLookaheadMatchesJavaScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is not installed: the JavaScript reference cannot run")
		}
		t.Skip("node is not installed: the JavaScript reference cannot run")
	}
	rng := rand.New(rand.NewPCG(15, 17))
	type tc struct {
		Re    string   `json:"re"`
		Names []string `json:"names"`
	}
	var cases []tc
	for range 2000 {
		c := tc{Re: "^(?!" + randomRegex(rng, 2) + ")" + randomRegex(rng, 2)}
		for range 8 {
			n := make([]byte, rng.IntN(6))
			for i := range n {
				n[i] = "ab-x/1)"[rng.IntN(7)]
			}
			c.Names = append(c.Names, string(n))
		}
		cases = append(cases, c)
	}
	in, err := json.Marshal(cases)
	require.NoError(t, err)
	cmd := exec.Command(node, "-e", `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
		console.log(JSON.stringify(JSON.parse(s).map(c=>{let re;try{re=new RegExp(c.re)}catch{return null}
		return c.names.map(n=>re.test(n))})))})`)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	require.NoError(t, err)
	var want [][]bool // nil: JavaScript refuses the expression
	require.NoError(t, json.Unmarshal(out, &want))

	compiled, wrong := 0, 0
	for i, c := range cases {
		r := Rule{Regex: c.Re}
		if want[i] == nil || r.Compile() != nil {
			continue // not an expression JavaScript reads, or one Go refuses
		}
		compiled++
		for j, n := range c.Names {
			if got := r.Match(n); got != want[i][j] && wrong < 10 {
				wrong++
				t.Errorf("%s on %q: %v, JavaScript says %v", c.Re, n, got, want[i][j])
			}
		}
	}
	require.Greater(t, compiled, len(cases)/2, "most expressions compile")
}
