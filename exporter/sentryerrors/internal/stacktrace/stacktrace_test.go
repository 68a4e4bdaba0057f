package stacktrace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procode-ai/otelcol-procode/internal/allocbudget"
)

func TestParseEdgeCases(t *testing.T) {
	p := &Parser{Exclude: []string{"org.springframework."}}

	t.Run("java thread prefix and excluded framework", func(t *testing.T) {
		ps := p.Parse("java", "Exception in thread \"main\" java.lang.IllegalStateException: boom\n"+
			"\tat org.springframework.web.Dispatcher.doDispatch(Dispatcher.java:10)\n"+
			"\tat app//com.acme.Main.main(Main.java:5)\n", Hints{})
		require.Len(t, ps.Exceptions, 1)
		e := ps.Exceptions[0]
		assert.Equal(t, "IllegalStateException", e.Type)
		assert.Equal(t, "java.lang", e.Module)
		assert.Equal(t, "boom", e.Value)
		require.Len(t, e.Frames, 2)
		assert.Equal(t, "com.acme.Main", e.Frames[0].Module)
		assert.True(t, e.Frames[0].InApp)
		assert.False(t, e.Frames[1].InApp, "in_app_exclude")
	})

	t.Run("java native method", func(t *testing.T) {
		ps := p.Parse("java", "java.lang.InterruptedException: sleep interrupted\n"+
			"\tat java.base/java.lang.Thread.sleep0(Native Method)\n"+
			"\tat java.base/java.lang.Thread$Sleeper.sleep(Thread.java:509)\n", Hints{})
		f := ps.Exceptions[0].Frames
		require.Len(t, f, 2)
		assert.Equal(t, "Thread.java", f[1].Filename, "as StackTraceElement.getFileName() gives it")
		assert.Zero(t, f[1].Lineno)
	})

	t.Run("go debug.Stack as the OTel Go SDK records it", func(t *testing.T) {
		ps := p.Parse("go", "goroutine 7 [running]:\n"+
			"runtime/debug.Stack()\n\t/usr/local/go/src/runtime/debug/stack.go:26 +0x5e\n"+
			"go.opentelemetry.io/otel/sdk/trace.recordStackTrace(...)\n\t/root/go/pkg/mod/go.opentelemetry.io/otel/sdk@v1.46.0/trace/span.go:577\n"+
			"main.handler({0x0?, 0x0?})\n\t/src/app/main.go:42 +0x10\n", Hints{})
		require.Len(t, ps.Exceptions, 1)
		f := ps.Exceptions[0].Frames
		// As sentry-go would capture it at the same place: without the frames that took
		// the stack (debug.Stack, the SDK's recordStackTrace).
		require.Len(t, f, 1)
		assert.Equal(t, "handler", f[0].Function)
		assert.Equal(t, "main", f[0].Module)
		assert.Equal(t, "/src/app/main.go", f[0].AbsPath)
		assert.Empty(t, f[0].Filename, "sentry-go sends an absolute path as abs_path alone")
		assert.True(t, f[0].InApp)
		assert.False(t, ps.Panic)
		assert.Empty(t, ps.Threads, "one goroutine needs no thread list")
	})

	t.Run("language detected from text", func(t *testing.T) {
		ps := p.Parse("", "TypeError: x\n    at f (/app/a.js:1:2)\n", Hints{})
		require.Len(t, ps.Exceptions, 1)
		assert.Equal(t, "f", ps.Exceptions[0].Frames[0].Function)
		ps = p.Parse("java", "Traceback (most recent call last):\n  File \"/app/x.py\", line 1, in <module>\nKeyError: 'a'\n", Hints{})
		require.Len(t, ps.Exceptions, 1)
		assert.Equal(t, "KeyError", ps.Exceptions[0].Type, "the wrong SDK language falls back to detection")
	})

	t.Run("language detected from the frames, not the message", func(t *testing.T) {
		for _, tc := range []struct{ lang, text string }{
			{"nodejs", "Error: cannot compile Foo.java:12\n    at compile (/app/build.js:10:5)\n    at main (/app/index.js:3:1)\n"},
			{"nodejs", "Error: step one ---> step two\n    at run (/app/a.js:1:2)\n"},
			{"nodejs", "Error: bad config\n  File \"settings.py\" is missing\n    at run (/app/a.js:1:2)\n"},
			{"java", "java.lang.RuntimeException: goroutine 5 [running]:\n\tat com.acme.A.b(A.java:3)\n"},
			{"dotnet", "System.Exception: no Foo.java:12 here\n   at Acme.P.Run() in /src/P.cs:line 4\n"},
		} {
			ps := p.Parse("", tc.text, Hints{})
			assert.Equal(t, tc.lang, ps.Language, tc.text)
			require.Len(t, ps.Exceptions, 1, tc.text)
			assert.NotEmpty(t, ps.Exceptions[0].Frames, tc.text)
		}
	})

	t.Run("python context chain", func(t *testing.T) {
		ps := p.Parse("python", "Traceback (most recent call last):\n  File \"/app/a.py\", line 1, in f\n    x()\nKeyError: 'k'\n\n"+
			"During handling of the above exception, another exception occurred:\n\n"+
			"Traceback (most recent call last):\n  File \"/app/a.py\", line 3, in f\n    raise RuntimeError('wrapped')\nRuntimeError: wrapped\n", Hints{})
		require.Len(t, ps.Exceptions, 2)
		assert.Equal(t, "KeyError", ps.Exceptions[0].Type)
		assert.Equal(t, "RuntimeError", ps.Exceptions[1].Type)
		assert.Equal(t, "__context__", ps.Exceptions[0].Source, "raised while handling, not from")
	})

	t.Run("deep stacks are bounded", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("RangeError: Maximum call stack size exceeded\n")
		for i := 0; i < 1000; i++ {
			b.WriteString("    at recurse (/app/r.js:3:5)\n")
		}
		ps := p.Parse("nodejs", b.String(), Hints{})
		assert.Len(t, ps.Exceptions[0].Frames, MaxFrames)
	})

	t.Run("text that is no stack trace", func(t *testing.T) {
		for _, s := range []string{"", "just a message", "\n\n\tat \n", "goroutine ]:\n", "Traceback (most recent call last):", " ---> \n   at "} {
			assert.NotPanics(t, func() { p.Parse("", s, Hints{}) }, s)
		}
	})
}

// FuzzParse runs every stack-trace parser (Python, Java, Go, Node.js, .NET) directly,
// and the language detection in front of them, on arbitrary text. Properties: no
// panic; at most MaxFrames frames per exception and per thread, MaxExceptions
// exceptions and MaxThreads threads; exception types and
// values are taken from the text, never longer than it; each parse allocates a
// bounded multiple of the text's size (no parser copies the text once per line).
func FuzzParse(f *testing.F) {
	for _, name := range []string{"python_tool_call.txt", "java_causes.txt", "go_panic.txt", "node_error.txt", "dotnet_inner.txt"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "stacks", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	p := &Parser{Exclude: []string{"com.acme.", "/app/vendor/"}}
	parsers := map[string]func(*scratch, string) Stack{
		"python": p.parsePython, "java": p.parseJava, "go": p.parseGo, "nodejs": p.parseNode, "dotnet": p.parseDotNet,
		"detected": func(sc *scratch, s string) Stack { return p.parseInto(sc, "", s) },
	}
	f.Fuzz(func(t *testing.T, s string) {
		s = strings.ReplaceAll(s, "\r\n", "\n") // as parse does before any parser runs
		for name, parse := range parsers {
			var ps Stack
			if err := allocbudget.Check(len(s), 1024, 64<<10, func() { ps = parse(&scratch{}, s) }); err != nil {
				t.Fatalf("%s parser: %v", name, err)
			}
			if name == "detected" && (len(ps.Exceptions) > MaxExceptions || len(ps.Threads) > MaxThreads) {
				t.Fatalf("parse: %d exceptions and %d threads, more than %d and %d", len(ps.Exceptions), len(ps.Threads), MaxExceptions, MaxThreads)
			}
			for _, e := range ps.Exceptions {
				if len(e.Frames) > MaxFrames {
					t.Fatalf("%s parser: %d frames, more than %d", name, len(e.Frames), MaxFrames)
				}
				if len(e.Type) > len(s) || len(e.Value) > len(s) || len(e.Module) > len(s) {
					t.Fatalf("%s parser: type, value or module longer than the text itself", name)
				}
			}
			for _, th := range ps.Threads {
				if len(th.Frames) > MaxFrames {
					t.Fatalf("%s parser: a thread of %d frames, more than %d", name, len(th.Frames), MaxFrames)
				}
			}
		}
	})
}
