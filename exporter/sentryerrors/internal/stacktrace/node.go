package stacktrace

import (
	"strings"
)

// parseNode reads a V8 error.stack text.
//
//	TypeError: Cannot read properties of undefined (reading 'id')
//	    at getUser (/app/src/users.js:10:15)
//	    at async Promise.all (index 0)
//	    at /app/src/index.js:5:3
func (p *Parser) parseNode(sc *scratch, text string) Stack {
	var header []string
	lines := sc.split(text)
	frames := sc.framePool(len(lines)) // a Frame per line at most
	for _, line := range lines {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "at ") {
			if f, ok := p.nodeFrame(trimmed[3:]); ok {
				frames = append(frames, f)
			}
			continue
		}
		if len(frames) == 0 && trimmed != "" {
			header = append(header, trimmed)
		}
	}
	e := Exception{}
	if len(header) > 0 {
		e.Type, e.Value = splitTypeValue(header[0])
		if len(header) > 1 {
			e.Value = strings.TrimSpace(e.Value + "\n" + strings.Join(header[1:], "\n"))
		}
	}
	sc.frames = frames // what release clears
	e.Frames, _ = boundFrames(reverseFrames(frames))
	return Stack{Exceptions: append(sc.exceptionList(1), e)}
}

// nodeFrame parses "fn (path:line:col)", "path:line:col" or "async fn (index 0)".
func (p *Parser) nodeFrame(s string) (Frame, bool) {
	var f Frame
	s = strings.TrimPrefix(s, "async ")
	loc := s
	if strings.HasSuffix(s, ")") {
		if i := strings.LastIndex(s, " ("); i >= 0 {
			f.Function = s[:i]
			loc = s[i+2 : len(s)-1]
		}
	}
	// loc is path:line:col (path may itself contain colons, as in file:///C:/x.js).
	col, line := 0, 0
	if i := strings.LastIndexByte(loc, ':'); i > 0 {
		if c := atoi(loc[i+1:]); c > 0 || loc[i+1:] == "0" {
			col = c
			rest := loc[:i]
			if j := strings.LastIndexByte(rest, ':'); j > 0 {
				line = atoi(rest[j+1:])
				loc = rest[:j]
			} else {
				line, col, loc = col, 0, rest
			}
		}
	}
	if line == 0 {
		// "async Promise.all (index 0)", "<anonymous>", "native": a function without a location.
		if f.Function == "" {
			f.Function = s
		}
		f.InApp = false
		return f, f.Function != ""
	}
	path := strings.TrimPrefix(loc, "file://")
	f.AbsPath = path
	f.Filename = path
	f.Lineno, f.Colno = line, col
	if i := strings.LastIndex(path, "/node_modules/"); i >= 0 {
		f.Module = path[i+len("/node_modules/"):]
	}
	f.InApp = !(strings.Contains(path, "/node_modules/") || strings.HasPrefix(path, "node:") ||
		strings.HasPrefix(path, "internal/") || !strings.ContainsAny(path, "/\\") || p.excluded(path))
	return f, true
}
