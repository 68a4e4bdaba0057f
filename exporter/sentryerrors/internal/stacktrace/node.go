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
		// "Promise.all (index 0)", "Array.map (<anonymous>)", "native": a function
		// without a line; @sentry/node names the file and the module by what is in
		// the parentheses.
		if f.Function == "" {
			f.Function = s
		} else {
			f.Filename, f.Module = loc, loc
		}
		f.InApp = false
		return f, f.Function != ""
	}
	path := strings.TrimPrefix(loc, "file://")
	f.AbsPath = path
	f.Filename = path
	f.Lineno, f.Colno = line, col
	// As @sentry/node writes them: "Object.<anonymous>" is "Object.?", a function
	// without a name "?".
	f.Function = strings.ReplaceAll(f.Function, "<anonymous>", "?")
	if f.Function == "" {
		f.Function = "?"
	}
	f.InApp = !(strings.Contains(path, "/node_modules/") || strings.HasPrefix(path, "node:") ||
		strings.HasPrefix(path, "internal/") || !strings.ContainsAny(path, "/\\") || p.excluded(path))
	return f, true
}

// nodeModules names each frame's module as @sentry/node does: for a file under
// node_modules its directory there, dotted, ":" and its name without extension
// ("express.lib.router:layer"); for a file under the main script's directory its
// directory relative to that, dotted, ":" and its name ("lib:orders", "main"); else the
// file's name alone ("loader" for node:internal/modules/cjs/loader).
func nodeModules(excs []Exception, mainScript string) {
	base := ""
	if i := strings.LastIndexByte(mainScript, '/'); i > 0 {
		base = mainScript[:i]
	}
	for i := range excs {
		for j := range excs[i].Frames {
			if f := &excs[i].Frames[j]; f.Lineno > 0 {
				f.Module = nodeModule(f.Filename, base)
			}
		}
	}
}

func nodeModule(path, base string) string {
	dir, file := ".", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		dir, file = path[:i], path[i+1:]
	}
	for _, ext := range []string{".js", ".mjs", ".cjs"} {
		if name, ok := strings.CutSuffix(file, ext); ok && name != "" {
			file = name
			break
		}
	}
	if i := strings.LastIndex(dir, "/node_modules"); i >= 0 {
		return strings.ReplaceAll(strings.TrimPrefix(dir[i+len("/node_modules"):], "/"), "/", ".") + ":" + file
	}
	if base != "" && strings.HasPrefix(dir, base) {
		if rel := strings.TrimPrefix(dir[len(base):], "/"); rel != "" {
			return strings.ReplaceAll(rel, "/", ".") + ":" + file
		}
		return file
	}
	return file
}
