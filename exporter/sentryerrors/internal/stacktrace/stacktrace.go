// Package stacktrace parses the stack trace texts that OpenTelemetry SDKs record
// (exception.stacktrace) into Sentry's exceptions and frames: CPython tracebacks, Java
// printStackTrace, Go goroutine dumps, V8 error.stack and .NET Exception.ToString().
package stacktrace // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/stacktrace"

import (
	"strings"
)

// Bounds on what one stack trace text yields. Real traces stay far inside them; they
// keep a pathological text (a cause chain thousands long, a dump of every goroutine of
// a busy server) from costing memory without bound or making an event Sentry rejects.
const (
	// MaxFrames bounds the frames of one exception; the middle of a longer stack is
	// left out and named in frames_omitted, the way Sentry SDKs do it.
	MaxFrames = 200
	// MaxExceptions bounds a chain of causes: the raised exception and its nearest
	// causes are kept, and the root cause.
	MaxExceptions = 20
	// MaxThreads bounds the goroutines of a Go dump that become threads; the failed
	// one is the first.
	MaxThreads = 50
	// MaxText is how much of an exception.stacktrace text is parsed: the text is
	// cut at the last line break before it.
	MaxText = 256 << 10
)

// stackLanguage is the format of an exception.stacktrace text.
type stackLanguage int

const (
	langUnknown stackLanguage = iota
	langPython
	langJava
	langGo
	langNode
	langDotNet
)

// languageNames are the telemetry.sdk.language values of the formats.
var languageNames = map[stackLanguage]string{
	langPython: "python", langJava: "java", langGo: "go", langNode: "nodejs", langDotNet: "dotnet",
}

// languageFromSDK maps telemetry.sdk.language to a stack format.
func languageFromSDK(sdkLang string) stackLanguage {
	switch sdkLang {
	case "python":
		return langPython
	case "java":
		return langJava
	case "go":
		return langGo
	case "nodejs", "webjs":
		return langNode
	case "dotnet":
		return langDotNet
	}
	return langUnknown
}

// detectLanguage recognises a stack trace format from its text: by the first line that
// only one format writes (a frame line, a traceback or goroutine header), so that an
// exception message that mentions a file or an arrow ("cannot open Foo.java:12",
// "step 1 ---> step 2") does not decide it; else by what the text contains.
func detectLanguage(text string) stackLanguage {
	for rest := text; rest != ""; {
		line, tail, _ := strings.Cut(rest, "\n")
		rest = tail
		switch {
		case strings.HasPrefix(line, "Traceback (most recent call last):"),
			strings.HasPrefix(line, "  File \"") && strings.Contains(line, "\", line "):
			return langPython
		case strings.HasPrefix(line, "goroutine ") && strings.HasSuffix(line, "]:"):
			return langGo
		case strings.HasPrefix(line, "\tat "):
			return langJava
		case strings.HasPrefix(line, "    at "): // V8 indents its frames by four spaces
			return langNode
		case strings.HasPrefix(line, "   at "): // .NET by three
			return langDotNet
		}
	}
	switch {
	case strings.Contains(text, "Traceback (most recent call last):"), strings.Contains(text, "\n  File \""):
		return langPython
	case strings.Contains(text, "goroutine ") && strings.Contains(text, "]:\n"):
		return langGo
	case strings.Contains(text, ".java:") || strings.Contains(text, "\tat ") && strings.Contains(text, "(Native Method)"):
		return langJava
	case strings.Contains(text, ":line ") || strings.Contains(text, " ---> ") || strings.Contains(text, "--- End of"):
		return langDotNet
	case strings.Contains(text, "    at ") && (strings.Contains(text, ".js:") || strings.Contains(text, ".ts:") || strings.Contains(text, ".mjs:") || strings.Contains(text, "node:")):
		return langNode
	case strings.Contains(text, "\tat "), strings.Contains(text, "\n\tat "):
		return langJava
	}
	return langUnknown
}

// Frame is one stack Frame: the part of Sentry's Frame interface the parsers fill.
type Frame struct {
	Function, Module, Filename, AbsPath, ContextLine string
	Lineno, Colno                                    int
	InApp                                            bool
}

// Thread is one goroutine of a Go dump.
type Thread struct {
	ID, Name         string
	Frames           []Frame
	FramesOmitted    []uint
	Crashed, Current bool
}

// Exception is one exception of a chain, frames oldest call first (Sentry's order).
type Exception struct {
	Type, Value, Module string
	Frames              []Frame
	// Source is how this exception led to the next one of the chain, as the language's
	// Sentry SDK names it ("__cause__" or "__context__" in Python, "InnerException" or
	// "InnerExceptions[1]" in .NET); "" for "cause".
	Source string
	// Parent is the index in Stack.Exceptions of the exception this one is the cause
	// (inner exception) of; -1 for the raised exception, the last. In a chain it is the
	// next exception; in a .NET AggregateException's tree, the one that holds it.
	Parent int
	// Group marks an exception group (a .NET AggregateException): the exceptions whose
	// Parent it is are its members.
	Group bool
}

// Stack is what a stack trace text yields: exceptions from the root cause to the
// exception that was raised last (Sentry's order), and, for Go dumps, every goroutine.
type Stack struct {
	Exceptions []Exception
	Threads    []Thread
	Panic      bool   // a Go panic or fatal error: an unhandled crash
	Language   string // the format the text was read as, a telemetry.sdk.language value
	linked     bool   // the parser set each exception's Parent (else: a chain)
}

// Hints are what the telemetry around a stack trace says that the text does not.
type Hints struct {
	// ExceptionType is exception.type, which may be qualified (Python's
	// "app.parsing.OrderParseError"): it tells where the app's import root is.
	ExceptionType string
	// MainScript is the path of the program's main script (resource process.command):
	// Node.js module names are relative to its directory.
	MainScript string
}

// Parser parses stack traces with the in-app rules of one exporter.
type Parser struct {
	// Exclude lists module or path prefixes that are library code, on top of each
	// language's own rules.
	Exclude []string
}

// Parse reads text as the stack trace format of the SDK language sdkLang
// (telemetry.sdk.language), else as the format the text looks like.
func (p *Parser) Parse(sdkLang, text string, h Hints) Stack {
	ps := p.parseInto(&scratch{}, sdkLang, text)
	switch ps.Language {
	case "python":
		pythonModules(ps.Exceptions, h.ExceptionType)
	case "nodejs":
		nodeModules(ps.Exceptions, h.MainScript)
	}
	return ps
}

// parseInto parses in sc's space: the frames and exceptions it returns live there.
func (p *Parser) parseInto(sc *scratch, sdkLang, text string) Stack {
	if text == "" {
		return Stack{}
	}
	if len(text) > MaxText {
		text = text[:MaxText]
		if i := strings.LastIndexByte(text, '\n'); i > 0 {
			text = text[:i]
		}
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lang := languageFromSDK(sdkLang)
	if ps, ok := p.parseAs(sc, lang, text); ok {
		ps.Language = languageNames[lang]
		return ps.bounded()
	}
	if detected := detectLanguage(text); detected != lang {
		if ps, ok := p.parseAs(sc, detected, text); ok {
			ps.Language = languageNames[detected]
			return ps.bounded()
		}
	}
	return Stack{}
}

// bounded applies MaxExceptions and MaxThreads, and links a chain's exceptions.
func (ps Stack) bounded() Stack {
	if n := len(ps.Exceptions); n > MaxExceptions {
		// Sentry's order: the root cause first, the raised exception last.
		kept := ps.Exceptions[n-MaxExceptions:]
		kept[0] = ps.Exceptions[0]
		ps.Exceptions = kept
		ps.linked = false // a tree cut so is read as a chain
	}
	if !ps.linked {
		for i := range ps.Exceptions {
			ps.Exceptions[i].Parent, ps.Exceptions[i].Group = i+1, false
		}
		if n := len(ps.Exceptions); n > 0 {
			ps.Exceptions[n-1].Parent = -1
		}
	}
	if len(ps.Threads) > MaxThreads {
		ps.Threads = ps.Threads[:MaxThreads]
	}
	return ps
}

func (p *Parser) parseAs(sc *scratch, lang stackLanguage, text string) (Stack, bool) {
	var ps Stack
	defer func() { // what release clears
		if ps.Exceptions != nil {
			sc.excs = ps.Exceptions
		}
	}()
	switch lang {
	case langPython:
		ps = p.parsePython(sc, text)
	case langJava:
		ps = p.parseJava(sc, text)
	case langGo:
		ps = p.parseGo(sc, text)
	case langNode:
		ps = p.parseNode(sc, text)
	case langDotNet:
		ps = p.parseDotNet(sc, text)
	default:
		return ps, false
	}
	for _, e := range ps.Exceptions {
		if len(e.Frames) > 0 {
			return ps, true
		}
	}
	return ps, false
}

// excluded reports whether a module or path matches the configured in_app_exclude.
func (p *Parser) excluded(s ...string) bool {
	for _, e := range p.Exclude {
		for _, v := range s {
			if v != "" && strings.HasPrefix(v, e) {
				return true
			}
		}
	}
	return false
}

// reverseFrames turns innermost-first stacks (Java, Go, Node, .NET) into Sentry's order.
func reverseFrames(f []Frame) []Frame {
	for i, j := 0, len(f)-1; i < j; i, j = i+1, j-1 {
		f[i], f[j] = f[j], f[i]
	}
	return f
}

// boundFrames keeps the first and last frames of a very deep stack.
func boundFrames(f []Frame) ([]Frame, []uint) {
	if len(f) <= MaxFrames {
		return f, nil
	}
	head := MaxFrames / 4
	tail := MaxFrames - head
	out := make([]Frame, 0, MaxFrames)
	out = append(out, f[:head]...)
	out = append(out, f[len(f)-tail:]...)
	return out, []uint{uint(head), uint(len(f) - tail)}
}

// splitTypeValue splits "pkg.Type: message" into type and message.
func splitTypeValue(line string) (typ, value string) {
	line = strings.TrimSpace(line)
	if i := strings.Index(line, ": "); i > 0 && !strings.Contains(line[:i], " ") {
		return line[:i], strings.TrimSpace(line[i+2:])
	}
	if strings.HasSuffix(line, ":") && !strings.Contains(line, " ") {
		return strings.TrimSuffix(line, ":"), ""
	}
	if !strings.Contains(line, " ") {
		return line, ""
	}
	return "", line
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return n
		}
		n = n*10 + int(s[i]-'0')
		if n > 1<<30 {
			return 0
		}
	}
	return n
}

// lines splits text into sc's lines.
func (sc *scratch) split(text string) []string {
	clear(sc.lines) // a second parse of the text (another language) may use fewer
	if n := strings.Count(text, "\n") + 1; cap(sc.lines) < n {
		sc.lines = make([]string, 0, n)
	}
	sc.lines = splitLines(text, sc.lines[:0])
	return sc.lines
}

// framePool is sc's frames emptied, with room for n.
func (sc *scratch) framePool(n int) []Frame {
	clear(sc.frames)
	if cap(sc.frames) < n {
		sc.frames = make([]Frame, 0, n)
	}
	return sc.frames[:0]
}

// exceptionList is sc's exceptions emptied, with room for n.
func (sc *scratch) exceptionList(n int) []Exception {
	clear(sc.excs)
	if cap(sc.excs) < n {
		sc.excs = make([]Exception, 0, n)
	}
	return sc.excs[:0]
}

// splitLines appends the lines of text (split at newlines) to out.
func splitLines(text string, out []string) []string {
	for {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			return append(out, text)
		}
		out = append(out, text[:i])
		text = text[i+1:]
	}
}

// exceptionHeader is how a printed exception starts: its "Type: message" line and the
// further lines of a multi-line message.
type exceptionHeader struct {
	first string
	more  []string
}

// typeValue splits the header into the exception's type and its whole message.
func (h exceptionHeader) typeValue() (typ, val string) {
	typ, val = splitTypeValue(h.first)
	if len(h.more) > 0 {
		val = strings.TrimSpace(val + "\n" + strings.Join(h.more, "\n"))
	}
	return typ, val
}

// scratch is the stack parsers' working space: lines, and the frames and
// exceptions they return (which stay in use until the event is encoded).
type scratch struct {
	lines  []string
	frames []Frame
	excs   []Exception
}
