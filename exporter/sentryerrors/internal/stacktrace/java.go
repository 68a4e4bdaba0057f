package stacktrace

import (
	"strings"
)

// jdkPrefixes are packages of the JDK and the JVM languages' runtimes: not app code.
var jdkPrefixes = []string{
	"java.", "javax.", "jdk.", "sun.", "com.sun.", "kotlin.", "kotlinx.coroutines.", "scala.",
}

// parseJava reads a Throwable.printStackTrace text with its "Caused by:" chain.
// "... N more" lines are filled in from the enclosing trace, whose last N frames they
// stand for (up to maxCopiedFrames over the whole text). Suppressed exceptions are
// skipped. A chain longer than MaxExceptions keeps its first exceptions and its root
// cause.
//
//	java.lang.IllegalStateException: order failed
//		at com.example.OrderService.process(OrderService.java:42)
//	Caused by: java.io.IOException: Connection reset
//		at java.base/sun.nio.ch.SocketDispatcher.read0(Native Method)
//		... 2 more
//
// One pass over the lines with the state of the exception being read: the states are
// easier to follow in one loop than spread over helpers.
func (p *Parser) parseJava(sc *scratch, text string) Stack {
	type section struct {
		header exceptionHeader
		frames []Frame // innermost first, as printed
	}
	sections := make([]section, 0, min(strings.Count(text, "Caused by: ")+1, MaxExceptions))
	var cur *section
	var enclosing []Frame // the frames of the section printed before cur
	open := func(first string) {
		if cur != nil {
			enclosing = cur.frames
		}
		if len(sections) == MaxExceptions {
			// Past the limit the last slot takes each further cause, so that it ends up
			// holding the root cause, printed last.
			sections[len(sections)-1] = section{header: exceptionHeader{first: first}}
		} else {
			sections = append(sections, section{header: exceptionHeader{first: first}})
		}
		cur = &sections[len(sections)-1]
	}
	suppressedIndent := -1
	lines := sc.split(text)
	// One backing array for every section's frames, "... N more" copies included.
	pool := sc.framePool(javaFrameCount(lines))
	copied := 0
	add := func(fs ...Frame) {
		if len(pool)+len(fs) <= cap(pool) && (len(cur.frames) == 0 || &cur.frames[len(cur.frames)-1] == &pool[len(pool)-1]) {
			pool = append(pool, fs...)
			cur.frames = pool[len(pool)-len(cur.frames)-len(fs) : len(pool) : len(pool)]
			return
		}
		cur.frames = append(cur.frames, fs...)
	}
	for _, line := range lines {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		if suppressedIndent >= 0 {
			if indent > suppressedIndent {
				continue
			}
			suppressedIndent = -1
		}
		switch {
		case strings.HasPrefix(trimmed, "Suppressed: "):
			suppressedIndent = indent
		case strings.HasPrefix(trimmed, "Caused by: "):
			open(strings.TrimPrefix(trimmed, "Caused by: "))
		case strings.HasPrefix(trimmed, "at ") && cur != nil:
			add(p.javaFrame(trimmed[3:]))
		case strings.HasPrefix(trimmed, "... ") && strings.HasSuffix(trimmed, " more") && cur != nil:
			n := atoi(strings.TrimPrefix(trimmed, "... "))
			if n > 0 && n <= len(enclosing) && copied+n <= maxCopiedFrames {
				copied += n
				add(enclosing[len(enclosing)-n:]...)
			}
		case cur == nil:
			// The JVM's default handler prefixes: Exception in thread "main" java.lang.X: msg
			if rest, ok := strings.CutPrefix(trimmed, "Exception in thread \""); ok {
				if i := strings.Index(rest, "\" "); i >= 0 {
					trimmed = rest[i+2:]
				}
			}
			open(trimmed)
		case len(cur.frames) == 0:
			cur.header.more = append(cur.header.more, trimmed) // a multi-line message
		}
	}
	ps := Stack{Exceptions: sc.exceptionList(len(sections))}
	// Printed outermost first; Sentry wants the root cause first.
	for i := len(sections) - 1; i >= 0; i-- {
		s := &sections[i]
		typ, val := s.header.typeValue()
		// "... N more" copied the enclosing frames while parsing: each section owns its slice.
		frames, _ := boundFrames(reverseFrames(s.frames))
		e := Exception{Type: typ, Value: val, Frames: frames}
		if j := strings.LastIndex(typ, "."); j > 0 {
			// As sentry-java: the class's simple name, its package as the module.
			e.Module, e.Type = typ[:j], typ[j+1:]
		}
		ps.Exceptions = append(ps.Exceptions, e)
	}
	sc.frames = pool // what release clears
	return ps
}

// maxCopiedFrames bounds the frames that "... N more" lines fill in from enclosing
// traces over one text: each cause repeats the outer frames of the trace it is printed
// in, so a chain of causes would otherwise grow with the square of its length.
const maxCopiedFrames = 4 * MaxFrames

// javaFrameCount bounds how many frames a trace's lines yield: its "at" lines, plus
// what its "... N more" lines fill in (a line that claims more frames than were printed
// above it reserves nothing for them).
func javaFrameCount(lines []string) int {
	at, more := 0, 0
	for _, line := range lines {
		line = strings.TrimLeft(line, " \t")
		if strings.HasPrefix(line, "at ") {
			at++
		} else if rest, ok := strings.CutPrefix(line, "... "); ok && strings.HasSuffix(rest, " more") {
			// Filled in from frames printed above it, so never more than those.
			more += min(atoi(rest), at)
		}
	}
	return at + min(more, maxCopiedFrames)
}

// javaFrame parses "com.example.Foo.bar(Foo.java:42)", with an optional class loader
// or module prefix ("app//", "java.base/") and logback's packaging suffix ("~[app.jar:1.0]").
func (p *Parser) javaFrame(s string) Frame {
	var f Frame
	if i := strings.Index(s, ") "); i >= 0 {
		s = s[:i+1]
	}
	qual, loc := s, ""
	if i := strings.IndexByte(s, '('); i >= 0 {
		qual, loc = s[:i], strings.TrimSuffix(s[i+1:], ")")
	}
	jvmModule := ""
	if i := strings.LastIndexByte(qual, '/'); i >= 0 {
		jvmModule, qual = qual[:i], qual[i+1:]
	}
	if i := strings.LastIndexByte(qual, '.'); i > 0 {
		f.Module, f.Function = qual[:i], qual[i+1:]
	} else {
		f.Function = qual
	}
	switch {
	case loc == "Native Method":
		// sentry-java sends StackTraceElement.getFileName(), which for a native method
		// is its class's source file all the same: by convention the outer class's name.
		f.Filename = javaSourceFile(f.Module)
	case loc == "Unknown Source" || loc == "":
	default:
		if i := strings.LastIndexByte(loc, ':'); i > 0 {
			f.Filename, f.Lineno = loc[:i], atoi(loc[i+1:])
		} else {
			f.Filename = loc
		}
	}
	f.InApp = true
	if strings.HasPrefix(jvmModule, "java.") || strings.HasPrefix(jvmModule, "jdk.") || p.excluded(f.Module) {
		f.InApp = false
	}
	for _, pre := range jdkPrefixes {
		if strings.HasPrefix(f.Module, pre) {
			f.InApp = false
			break
		}
	}
	return f
}

// javaSourceFile is the source file of a class by the Java convention:
// java.lang.Thread$State is in Thread.java.
func javaSourceFile(class string) string {
	name := class[strings.LastIndexByte(class, '.')+1:]
	if i := strings.IndexByte(name, '$'); i > 0 {
		name = name[:i]
	}
	if name == "" {
		return ""
	}
	return name + ".java"
}
