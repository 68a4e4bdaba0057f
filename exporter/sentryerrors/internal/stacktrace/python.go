package stacktrace

import (
	"strings"
)

// parsePython reads a CPython traceback, including chained exceptions ("The above
// exception was the direct cause of the following exception:") and 3.11+ caret lines.
//
//	Traceback (most recent call last):
//	  File "/app/agent/tools.py", line 42, in run_tool
//	    result = tool.execute(args)
//	httpx.ConnectError: [Errno 111] Connection refused
//
// One pass over the lines with the state of the exception being read: the states are
// easier to follow in one loop than spread over helpers.
func (p *Parser) parsePython(sc *scratch, text string) Stack {
	ps := Stack{Exceptions: sc.exceptionList(strings.Count(text, "Traceback (most recent call last):"))}
	lines := sc.split(text)
	// One backing array for the frames of every exception of the chain.
	pool := sc.framePool(strings.Count(text, "File \""))
	var cur Exception
	open := false // cur is an exception being read
	inTrace := false
	var msgLines [4]string
	msg := msgLines[:0]
	finish := func() {
		if !open {
			return
		}
		if len(msg) > 0 {
			typ, val := splitTypeValue(msg[0])
			if len(msg) > 1 {
				val = strings.TrimSpace(val + "\n" + strings.Join(msg[1:], "\n"))
			}
			if i := strings.LastIndex(typ, "."); i > 0 {
				cur.Module, typ = typ[:i], typ[i+1:]
			}
			cur.Type, cur.Value = typ, val
		}
		ps.Exceptions = append(ps.Exceptions, cur)
		cur, open, msg = Exception{}, false, msg[:0]
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "Traceback (most recent call last):"):
			finish()
			cur, open = Exception{Frames: pool[len(pool):len(pool)]}, true
			inTrace = true
		case !open:
			continue
		case strings.HasPrefix(line, "  File \"") && inTrace:
			f := p.pythonFrame(trimmed)
			// The next line, indented deeper, is the source line; 3.11+ may add a caret line.
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "    ") && !strings.HasPrefix(strings.TrimSpace(lines[i+1]), "File \"") {
				code := strings.TrimSpace(lines[i+1])
				if !isCaretLine(code) {
					f.ContextLine = code
				}
				i++
				if i+1 < len(lines) && isCaretLine(strings.TrimSpace(lines[i+1])) {
					i++
				}
			}
			if len(pool) < cap(pool) {
				pool = append(pool, f)
				cur.Frames = pool[len(pool)-len(cur.Frames)-1 : len(pool)]
			} else {
				cur.Frames = append(cur.Frames, f)
			}
		case strings.HasPrefix(trimmed, "The above exception was the direct cause"),
			strings.HasPrefix(trimmed, "During handling of the above exception"):
			finish()
			if n := len(ps.Exceptions); n > 0 {
				// As sentry-python names the link: raise ... from (__cause__), or raised
				// while handling (__context__).
				ps.Exceptions[n-1].Source = "__context__"
				if strings.HasPrefix(trimmed, "The above") {
					ps.Exceptions[n-1].Source = "__cause__"
				}
			}
			inTrace = false
		case trimmed == "":
			if len(msg) > 0 {
				inTrace = false
			}
		case strings.HasPrefix(line, "  ") && inTrace && len(msg) == 0:
			// "    ...<n lines>..." or a repeated-frames note ("[Previous line repeated 996 more times]")
			continue
		default:
			inTrace = false
			msg = append(msg, strings.TrimRight(line, " "))
		}
	}
	finish()
	for i := range ps.Exceptions {
		ps.Exceptions[i].Frames, _ = boundFrames(ps.Exceptions[i].Frames)
	}
	sc.frames = pool // what release clears
	return ps
}

func isCaretLine(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '^' && c != '~' && c != ' ' {
			return false
		}
	}
	return true
}

// pythonFrame parses `File "/path/x.py", line 42, in func`.
func (p *Parser) pythonFrame(line string) Frame {
	var f Frame
	rest := strings.TrimPrefix(line, "File \"")
	end := strings.Index(rest, "\"")
	if end < 0 {
		f.Function = rest
		return f
	}
	path := rest[:end]
	rest = rest[end+1:]
	if i := strings.Index(rest, "line "); i >= 0 {
		f.Lineno = atoi(rest[i+len("line "):])
	}
	if i := strings.Index(rest, ", in "); i >= 0 {
		f.Function = strings.TrimSpace(rest[i+len(", in "):])
	}
	f.AbsPath = path
	f.Filename = path
	if root := libraryRoot(path); root > 0 {
		f.Filename, f.Module = pythonModule(path[root:])
	}
	f.InApp = !(strings.Contains(path, "/site-packages/") || strings.Contains(path, "/dist-packages/") ||
		strings.Contains(path, "/lib/python3") || strings.Contains(path, "/lib/python2") || strings.HasPrefix(path, "<") ||
		strings.Contains(path, "\\site-packages\\") || strings.Contains(path, "\\Lib\\") ||
		p.excluded(path, f.Module))
	return f
}

// libraryRoot is where the import path of a library module starts in path (after
// site-packages/, dist-packages/ or the standard library's lib/pythonX.Y/), or 0.
func libraryRoot(path string) int {
	if i := strings.LastIndex(path, "-packages/"); i >= 0 {
		return i + len("-packages/")
	}
	if i := strings.LastIndex(path, "/lib/python"); i >= 0 {
		if j := strings.IndexByte(path[i+len("/lib/python"):], '/'); j >= 0 {
			return i + len("/lib/python") + j + 1
		}
	}
	return 0
}

// pythonModule is the module of a file at rel under its import root, and the file name
// sentry-python gives it (filename_for_module): the path from the import root for a
// module of a package, the bare name for a top-level module.
func pythonModule(rel string) (filename, module string) {
	module = strings.ReplaceAll(strings.TrimSuffix(strings.TrimSuffix(rel, ".py"), "/__init__"), "/", ".")
	if !strings.Contains(module, ".") {
		return rel[strings.LastIndexByte(rel, '/')+1:], module
	}
	return rel, module
}

// pythonModules gives the app's frames the module and file name sentry-python would:
// relative to the app's import root. The root is where the qualified exception type's
// package sits in a frame's path (app.parsing.OrderParseError: the directory holding
// app/); without one, a frame is a top-level module. The script's own frame (the
// oldest, "<module>") is __main__.
func pythonModules(excs []Exception, qualifiedType string) {
	packages := []string{qualifiedType}
	for _, e := range excs {
		packages = append(packages, e.Module) // as the traceback names the types
	}
	root := ""
	for _, q := range packages {
		pkg, _, qualified := strings.Cut(q, ".")
		if !qualified || root != "" {
			continue
		}
		for _, e := range excs {
			for _, f := range e.Frames {
				if i := strings.LastIndex(f.AbsPath, "/"+pkg+"/"); i >= 0 && f.Module == "" && root == "" {
					root = f.AbsPath[:i+1]
				}
			}
		}
	}
	for i := range excs {
		for j := range excs[i].Frames {
			f := &excs[i].Frames[j]
			if f.Module != "" || strings.HasPrefix(f.AbsPath, "<") {
				continue
			}
			switch {
			case j == 0 && f.Function == "<module>":
				f.Module, f.Filename = "__main__", f.AbsPath[strings.LastIndexByte(f.AbsPath, '/')+1:]
			case root != "" && strings.HasPrefix(f.AbsPath, root):
				f.Filename, f.Module = pythonModule(f.AbsPath[len(root):])
			default:
				f.Filename, f.Module = pythonModule(f.AbsPath[strings.LastIndexByte(f.AbsPath, '/')+1:])
			}
		}
	}
}
