package stacktrace

import (
	"strings"
)

// parseGo reads a Go goroutine dump: a panic or fatal error printed by the runtime, or
// the runtime/debug.Stack() text that the OpenTelemetry Go SDK records with
// trace.WithStackTrace(true). The first goroutine is the one that failed; with
// GOTRACEBACK=all every goroutine becomes a thread of the event.
//
//	panic: runtime error: index out of range [5] with length 3
//
//	goroutine 1 [running]:
//	main.process(...)
//		/app/main.go:12
//	main.main()
//		/app/main.go:8 +0x1d
//
// One pass over the lines with the state of the exception being read: the states are
// easier to follow in one loop than spread over helpers.
func (p *Parser) parseGo(sc *scratch, text string) Stack {
	var ps Stack
	var panicMsg string
	type goroutine struct {
		id, state string
		frames    []Frame
	}
	var gs []*goroutine
	var cur *goroutine
	// One backing array for every goroutine's frames, each of which has a location line
	// starting with a tab; a goroutine's frames are the run it appended.
	pool := sc.framePool(strings.Count(text, "\n\t"))
	start := 0
	closeCur := func() {
		if cur != nil {
			cur.frames = pool[start:len(pool):len(pool)]
		}
	}
	lines := sc.split(text)
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case panicMsg == "" && cur == nil && (strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ")):
			panicMsg = line
		case strings.HasPrefix(line, "goroutine ") && strings.HasSuffix(line, "]:"):
			id := strings.TrimPrefix(line, "goroutine ")
			if j := strings.IndexByte(id, ' '); j >= 0 {
				id = id[:j]
			}
			state := ""
			if j := strings.LastIndexByte(line, '['); j >= 0 {
				state = strings.TrimSuffix(line[j+1:], "]:")
			}
			closeCur()
			cur = &goroutine{id: id, state: state}
			start = len(pool)
			gs = append(gs, cur)
		case cur != nil && line != "" && line[0] != '\t' && line[0] != ' ' && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\t"):
			fn := line
			if strings.HasPrefix(fn, "created by ") {
				fn = strings.TrimPrefix(fn, "created by ")
				if j := strings.Index(fn, " in goroutine "); j >= 0 {
					fn = fn[:j]
				}
			}
			if f := p.goFrame(fn, strings.TrimSpace(lines[i+1])); !skippedGoFrame(f) {
				pool = append(pool, f)
			}
			i++
		}
	}
	closeCur()
	sc.frames = pool // what release clears
	if len(gs) == 0 {
		return ps
	}
	typ, val := "", ""
	if panicMsg != "" {
		ps.Panic = true
		if strings.HasPrefix(panicMsg, "fatal error: ") {
			typ, val = "fatal error", strings.TrimPrefix(panicMsg, "fatal error: ")
		} else {
			val = strings.TrimSuffix(strings.TrimPrefix(panicMsg, "panic: "), " [recovered]")
			typ = "panic"
			if strings.HasPrefix(val, "runtime error: ") {
				typ = "runtime.Error"
			}
		}
	}
	for _, g := range gs {
		cleanupGoClosures(reverseFrames(g.frames))
	}
	frames, _ := boundFrames(gs[0].frames)
	ps.Exceptions = append(sc.exceptionList(1), Exception{Type: typ, Value: val, Frames: frames})
	if len(gs) > 1 {
		// The failing goroutine's thread shares the exception's frames: both are only read.
		for i, g := range gs {
			tf, omitted := boundFrames(g.frames)
			ps.Threads = append(ps.Threads, Thread{
				ID:            g.id,
				Name:          "goroutine " + g.id + " [" + g.state + "]",
				Frames:        tf,
				FramesOmitted: omitted,
				Crashed:       i == 0 && ps.Panic,
				Current:       i == 0,
			})
		}
	}
	return ps
}

// goFrame parses a function line ("github.com/x/y.(*T).Method(0xc000, ...)") and its
// location line ("/app/x.go:12 +0x1d").
func (p *Parser) goFrame(fn, loc string) Frame {
	var f Frame
	fn = stripGoArgs(fn)
	pkg, name := splitGoFunc(fn)
	f.Module, f.Function = pkg, name
	if j := strings.LastIndex(loc, " +0x"); j >= 0 {
		loc = loc[:j]
	}
	if j := strings.LastIndexByte(loc, ':'); j > 0 {
		f.AbsPath, f.Lineno = loc[:j], atoi(loc[j+1:])
	} else {
		f.AbsPath = loc
	}
	if !strings.HasPrefix(f.AbsPath, "/") && !isWindowsAbs(f.AbsPath) {
		// A build with -trimpath prints paths relative to the module: sentry-go
		// sends those as the file name, and absolute ones as abs_path alone.
		f.Filename, f.AbsPath = f.AbsPath, ""
	}
	// As sentry-go: library code is what lies under GOROOT, or in a module path with
	// "vendor" or "third_party"; everything else is the app's, the module cache included.
	f.InApp = !(isGoRoot(f.AbsPath) || strings.Contains(pkg, "vendor") || strings.Contains(pkg, "third_party") ||
		p.excluded(pkg, f.AbsPath, f.Filename))
	return f
}

// stripGoArgs removes the argument list the runtime prints after a function name.
func stripGoArgs(fn string) string {
	if !strings.HasSuffix(fn, ")") {
		return fn
	}
	depth := 0
	for i := len(fn) - 1; i >= 0; i-- {
		switch fn[i] {
		case ')':
			depth++
		case '(':
			depth--
			if depth == 0 {
				// "(*T)" right after a dot is part of the name, not the arguments.
				if i > 0 && fn[i-1] == '.' {
					return fn
				}
				return fn[:i]
			}
		}
	}
	return fn
}

// splitGoFunc splits "github.com/x/y.(*T).Method" into package and function.
func splitGoFunc(fn string) (pkg, name string) {
	slash := strings.LastIndexByte(fn, '/')
	if dot := strings.IndexByte(fn[slash+1:], '.'); dot >= 0 {
		return fn[:slash+1+dot], fn[slash+1+dot+1:]
	}
	return "", fn
}

// skippedGoFrame reports the frames sentry-go leaves out of its stack traces: the
// runtime's and the testing package's, and those of the code that took the stack
// (OpenTelemetry's RecordError and runtime/debug.Stack), which a stack captured by
// sentry-go at the same place would not have.
func skippedGoFrame(f Frame) bool {
	switch f.Module {
	case "runtime", "testing", "runtime/debug":
		return true
	case "go.opentelemetry.io/otel/sdk/trace":
		return f.Function == "recordStackTrace" || f.Function == "(*recordingSpan).RecordError" ||
			f.Function == "(*recordingSpan).End" || f.Function == "(*recordingSpan).AddEvent"
	}
	return false
}

// cleanupGoClosures names a closure as sentry-go does: without the name of the function
// that calls it ("handler.func1" called by "handler" is "func1"), so that grouping does
// not change with Go 1.21's qualified closure names. Frames are oldest call first.
func cleanupGoClosures(f []Frame) {
	for i := len(f) - 1; i > 0; i-- {
		if rest, ok := strings.CutPrefix(f[i].Function, f[i-1].Function+"."); ok {
			f[i].Function = rest
		}
	}
}

func isWindowsAbs(p string) bool {
	return len(p) > 2 && p[1] == ':' && (p[2] == '/' || p[2] == '\\')
}

// isGoRoot reports whether an absolute path is in a Go installation: sentry-go compares
// with the app's own GOROOT, which the collector knows only by the usual places.
func isGoRoot(path string) bool {
	return strings.HasPrefix(path, "/usr/local/go/") || strings.HasPrefix(path, "/usr/lib/go") ||
		strings.Contains(path, "/go/src/runtime/") || strings.Contains(path, "/sdk/go1.")
}
