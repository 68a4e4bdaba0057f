package stacktrace

import (
	"strings"
)

var dotnetLibraryPrefixes = []string{"System.", "Microsoft.", "Newtonsoft.", "lambda_method"}

// parseDotNet reads Exception.ToString(): the outer exception, each inner exception
// after " ---> ", then the frames of the innermost exception first, each block closed by
// "--- End of inner exception stack trace ---".
//
//	System.InvalidOperationException: Outer
//	 ---> System.ArgumentNullException: Value cannot be null. (Parameter 'key')
//	   at MyApp.Cache.Get(String key) in /src/MyApp/Cache.cs:line 42
//	   --- End of inner exception stack trace ---
//	   at MyApp.HomeController.Index() in /src/MyApp/HomeController.cs:line 17
func (p *Parser) parseDotNet(sc *scratch, text string) Stack {
	type section struct {
		header exceptionHeader
		frames []Frame
	}
	sections := make([]section, 0, strings.Count(text, "---> ")+1) // outermost first
	target := -1                                                   // the section frames currently belong to
	for _, line := range sc.split(text) {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
		case strings.HasPrefix(trimmed, "---> "):
			sections = append(sections, section{header: exceptionHeader{first: strings.TrimPrefix(trimmed, "---> ")}})
		case strings.HasPrefix(trimmed, "--- End of inner exception stack trace ---"):
			if target > 0 {
				target--
			}
		case strings.HasPrefix(trimmed, "--- End of stack trace from previous location"):
		case strings.HasPrefix(trimmed, "at ") && len(sections) > 0:
			if target < 0 {
				target = len(sections) - 1
			}
			sections[target].frames = append(sections[target].frames, p.dotnetFrame(trimmed[3:]))
		case len(sections) == 0:
			sections = append(sections, section{header: exceptionHeader{first: trimmed}})
		case target < 0:
			last := &sections[len(sections)-1]
			last.header.more = append(last.header.more, trimmed)
		}
	}
	ps := Stack{Exceptions: sc.exceptionList(len(sections))}
	for i := len(sections) - 1; i >= 0; i-- {
		s := &sections[i]
		typ, val := s.header.typeValue()
		e := Exception{Type: typ, Value: val}
		if j := strings.LastIndex(typ, "."); j > 0 {
			e.Module = typ[:j]
		}
		e.Frames, _ = boundFrames(reverseFrames(s.frames))
		ps.Exceptions = append(ps.Exceptions, e)
	}
	return ps
}

// dotnetFrame parses "MyApp.Cache.Get(String key) in /src/MyApp/Cache.cs:line 42".
func (p *Parser) dotnetFrame(s string) Frame {
	var f Frame
	method := s
	if i := strings.LastIndex(s, " in "); i >= 0 {
		method = s[:i]
		loc := s[i+len(" in "):]
		if j := strings.LastIndex(loc, ":line "); j >= 0 {
			f.Lineno = atoi(loc[j+len(":line "):])
			loc = loc[:j]
		}
		f.AbsPath, f.Filename = loc, loc
	}
	if i := strings.IndexByte(method, '('); i >= 0 {
		method = method[:i]
	}
	if i := strings.LastIndexByte(method, '.'); i > 0 {
		f.Module, f.Function = method[:i], method[i+1:]
	} else {
		f.Function = method
	}
	f.InApp = !p.excluded(f.Module, f.AbsPath)
	for _, pre := range dotnetLibraryPrefixes {
		if strings.HasPrefix(method, pre) {
			f.InApp = false
		}
	}
	return f
}
