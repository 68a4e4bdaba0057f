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
	if i := strings.LastIndex(path, "-packages/"); i >= 0 {
		rel := path[i+len("-packages/"):]
		f.Filename = rel
		f.Module = strings.ReplaceAll(strings.TrimSuffix(strings.TrimSuffix(rel, ".py"), "/__init__"), "/", ".")
	}
	f.InApp = !(strings.Contains(path, "/site-packages/") || strings.Contains(path, "/dist-packages/") ||
		strings.Contains(path, "/lib/python3") || strings.Contains(path, "/lib/python2") || strings.HasPrefix(path, "<") ||
		strings.Contains(path, "\\site-packages\\") || strings.Contains(path, "\\Lib\\") ||
		p.excluded(path, f.Module))
	return f
}
