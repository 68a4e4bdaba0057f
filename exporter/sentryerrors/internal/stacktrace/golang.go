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
			f := p.goFrame(fn, strings.TrimSpace(lines[i+1]))
			pool = append(pool, f)
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
		reverseFrames(g.frames)
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
	f.Filename = goShortPath(f.AbsPath)
	f.InApp = !(isGoStdlib(pkg) || strings.Contains(f.AbsPath, "/pkg/mod/") || strings.Contains(f.AbsPath, "/vendor/") ||
		strings.Contains(f.AbsPath, "/go/src/runtime/") || strings.HasPrefix(f.AbsPath, "/usr/local/go/") ||
		strings.HasPrefix(f.AbsPath, "/usr/lib/go") || p.excluded(pkg, f.AbsPath))
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

// isGoStdlib reports whether pkg is a standard library package: its first path element
// has no dot ("net/http", "runtime") and it is not "main".
func isGoStdlib(pkg string) bool {
	if pkg == "" || pkg == "main" {
		return false
	}
	first := pkg
	if i := strings.IndexByte(pkg, '/'); i >= 0 {
		first = pkg[:i]
	}
	return !strings.Contains(first, ".")
}

// goShortPath trims GOROOT and module cache prefixes so that Sentry shows
// "runtime/panic.go" or "github.com/x/y@v1.2.3/z.go".
func goShortPath(p string) string {
	if i := strings.Index(p, "/pkg/mod/"); i >= 0 {
		return p[i+len("/pkg/mod/"):]
	}
	if i := strings.Index(p, "/go/src/"); i >= 0 {
		return p[i+len("/go/src/"):]
	}
	return p
}
