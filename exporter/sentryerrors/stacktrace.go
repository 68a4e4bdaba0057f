package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"strings"
)

// Bounds on what one stack trace text yields. Real traces stay far inside them; they
// keep a pathological text (a cause chain thousands long, a dump of every goroutine of
// a busy server) from costing memory without bound or making an event Sentry rejects.
const (
	// maxFrames bounds the frames of one exception; the middle of a longer stack is
	// left out and named in frames_omitted, the way Sentry SDKs do it.
	maxFrames = 200
	// maxExceptions bounds a chain of causes: the raised exception and its nearest
	// causes are kept, and the root cause.
	maxExceptions = 20
	// maxThreads bounds the goroutines of a Go dump that become threads; the failed
	// one is the first.
	maxThreads = 50
	// maxStackText is how much of an exception.stacktrace text is parsed: the text is
	// cut at the last line break before it.
	maxStackText = 256 << 10
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

// detectLanguage recognises a stack trace format from its text.
func detectLanguage(text string) stackLanguage {
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

// frame is one stack frame: the part of Sentry's frame interface the parsers fill.
// sentry-go's Frame carries every optional field of the protocol (280 bytes); a stack
// of fifty frames of this one is a third of that to allocate, clear and scan.
type frame struct {
	Function, Module, Filename, AbsPath, ContextLine string
	Lineno, Colno                                    int
	InApp                                            bool
}

// stacktrace is Sentry's stack trace interface, frames oldest call first.
type stacktrace struct {
	Frames        []frame
	FramesOmitted []uint
}

func (st *stacktrace) empty() bool { return len(st.Frames) == 0 && len(st.FramesOmitted) == 0 }

// bound keeps at most n frames (see eventParts.boundStacks).
func (st *stacktrace) bound(n int) {
	if len(st.Frames) <= n {
		return
	}
	total := len(st.Frames)
	if len(st.FramesOmitted) == 2 {
		total += int(st.FramesOmitted[1] - st.FramesOmitted[0])
	}
	head := n / 4
	tail := n - head
	frames := make([]frame, 0, n)
	frames = append(frames, st.Frames[:head]...)
	st.Frames = append(frames, st.Frames[len(st.Frames)-tail:]...)
	st.FramesOmitted = []uint{uint(head), uint(total - tail)}
}

// exception is one value of the event's exception interface.
type exception struct {
	Type, Value, Module string
	Stacktrace          stacktrace // written when it has frames
	Mechanism           mechanism
}

// mechanism is how the exception was caught, and its place in a chain of causes.
type mechanism struct {
	Type, Source string
	ExceptionID  int
	ParentID     int
	HasParent    bool
	Unhandled    bool // written as "handled": false (a Go panic)
}

// thread is one value of the event's threads interface (Go goroutines).
type thread struct {
	ID, Name         string
	Stacktrace       stacktrace // written when it has frames
	Crashed, Current bool
}

// parsedException is one exception of a chain, frames oldest call first (Sentry's order).
type parsedException struct {
	Type, Value, Module string
	Frames              []frame
}

// parsedStack is what a stack trace text yields: exceptions from the root cause to the
// exception that was raised last (Sentry's order), and, for Go dumps, every goroutine.
type parsedStack struct {
	Exceptions []parsedException
	Threads    []thread
	Panic      bool // a Go panic or fatal error: an unhandled crash
}

// stackParser parses stack traces with the in-app rules of one exporter.
type stackParser struct {
	exclude []string
}

func (p *stackParser) parse(sdkLang, text string) parsedStack {
	return p.parseInto(&parseScratch{}, sdkLang, text)
}

// parseInto parses in sc's space: the frames and exceptions it returns live there.
func (p *stackParser) parseInto(sc *parseScratch, sdkLang, text string) parsedStack {
	if text == "" {
		return parsedStack{}
	}
	if len(text) > maxStackText {
		text = text[:maxStackText]
		if i := strings.LastIndexByte(text, '\n'); i > 0 {
			text = text[:i]
		}
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lang := languageFromSDK(sdkLang)
	if ps, ok := p.parseAs(sc, lang, text); ok {
		return ps.bounded()
	}
	if detected := detectLanguage(text); detected != lang {
		if ps, ok := p.parseAs(sc, detected, text); ok {
			return ps.bounded()
		}
	}
	return parsedStack{}
}

// bounded applies maxExceptions and maxThreads.
func (ps parsedStack) bounded() parsedStack {
	if n := len(ps.Exceptions); n > maxExceptions {
		// Sentry's order: the root cause first, the raised exception last.
		kept := ps.Exceptions[n-maxExceptions:]
		kept[0] = ps.Exceptions[0]
		ps.Exceptions = kept
	}
	if len(ps.Threads) > maxThreads {
		ps.Threads = ps.Threads[:maxThreads]
	}
	return ps
}

func (p *stackParser) parseAs(sc *parseScratch, lang stackLanguage, text string) (parsedStack, bool) {
	var ps parsedStack
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
func (p *stackParser) excluded(s ...string) bool {
	for _, e := range p.exclude {
		for _, v := range s {
			if v != "" && strings.HasPrefix(v, e) {
				return true
			}
		}
	}
	return false
}

// reverseFrames turns innermost-first stacks (Java, Go, Node, .NET) into Sentry's order.
func reverseFrames(f []frame) []frame {
	for i, j := 0, len(f)-1; i < j; i, j = i+1, j-1 {
		f[i], f[j] = f[j], f[i]
	}
	return f
}

// boundFrames keeps the first and last frames of a very deep stack.
func boundFrames(f []frame) ([]frame, []uint) {
	if len(f) <= maxFrames {
		return f, nil
	}
	head := maxFrames / 4
	tail := maxFrames - head
	out := make([]frame, 0, maxFrames)
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
func (sc *parseScratch) split(text string) []string {
	clear(sc.lines) // a second parse of the text (another language) may use fewer
	if n := strings.Count(text, "\n") + 1; cap(sc.lines) < n {
		sc.lines = make([]string, 0, n)
	}
	sc.lines = splitLines(text, sc.lines[:0])
	return sc.lines
}

// framePool is sc's frames emptied, with room for n.
func (sc *parseScratch) framePool(n int) []frame {
	clear(sc.frames)
	if cap(sc.frames) < n {
		sc.frames = make([]frame, 0, n)
	}
	return sc.frames[:0]
}

// exceptionList is sc's exceptions emptied, with room for n.
func (sc *parseScratch) exceptionList(n int) []parsedException {
	clear(sc.excs)
	if cap(sc.excs) < n {
		sc.excs = make([]parsedException, 0, n)
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
