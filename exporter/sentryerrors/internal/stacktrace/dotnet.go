package stacktrace

import (
	"regexp"
	"strconv"
	"strings"
)

// dotnetLibraryPrefixes are sentry-dotnet's default InAppExclude (SentryOptions.
// GetDefaultInAppExclude): a frame whose module starts with one, in any case and with
// no delimiter after it ("System" also covers "SystemX"), is not app code.
var dotnetLibraryPrefixes = []string{
	"system", "mono", "sentry", "microsoft", "ms", "abi.microsoft", "winrt", "uikit",
	"newtonsoft.json", "fsharp", "serilog", "giraffe", "nlog", "npgsql", "rabbitmq",
	"hangfire", "identityserver4", "awssdk", "polly", "swashbuckle", "fluentvalidation",
	"autofac", "stackexchange.redis", "dapper", "restsharp", "skiasharp", "identitymodel",
	"sqlitepclraw", "xamarin", "android", "google", "mongodb", "remotion.linq", "automapper",
	"nest", "owin", "mediatr", "icsharpcode", "grpc", "servicestack", "java.interop",
}

// sentry-dotnet's clean-up of compiler-generated names (DebugStackTrace:
// DemangleAsyncFunctionName, DemangleAnonymousFunction): an async or iterator state
// machine's MoveNext becomes its method on the enclosing type, a lambda "<Run>b__0_0"
// becomes "Run { <lambda> }".
var (
	dotnetStateMachine = regexp.MustCompile(`^(.*)\+<(\w*)>d__\d*$`)
	dotnetLambda       = regexp.MustCompile(`^<(\w*)>b__\w+$`)
)

// dotnetAggregate is the exception type whose inner exceptions are a group.
const dotnetAggregate = "System.AggregateException"

// dotnetOpen is an exception of the text whose lines are still being read.
type dotnetOpen struct {
	index     int  // in dotnetReader.excs
	aggregate bool // its further inner exceptions follow as "---> (Inner Exception #N) "
	inGroup   bool // opened by "---> (Inner Exception #N) ": "<---" closes it
	started   bool // its message is complete (a frame or an inner exception followed)
	// external is an ExternalException's form ("Type (0x80004005): message", DbException
	// and SocketException among them): it prints its inner exception without the line
	// that ends it, so the frames after it cannot be told apart and all go to it.
	external bool
}

// dotnetReader reads Exception.ToString() line by line. Exceptions are kept in the order
// their headers appear, which is the order sentry-dotnet numbers them in (exception_id):
// the raised exception, then each inner exception and its own inner ones.
type dotnetReader struct {
	p      *Parser
	excs   []Exception
	frames [][]Frame         // per exception, innermost call first as printed
	heads  []exceptionHeader // per exception
	open   []dotnetOpen      // the raised exception first, the one being read last
}

// parseDotNet reads Exception.ToString() as .NET prints it (OTel .NET records it as
// exception.stacktrace): the raised exception's header, each inner exception's header
// after " ---> ", the innermost one's frames first, each inner block closed by
// "--- End of inner exception stack trace ---", then the raised exception's frames. An
// AggregateException prints its first inner exception so and each further one after its
// own frames as " ---> (Inner Exception #N) ...<---".
//
//	System.InvalidOperationException: Outer
//	 ---> System.ArgumentNullException: Value cannot be null. (Parameter 'key')
//	   at MyApp.Cache.Get(String key) in /src/MyApp/Cache.cs:line 42
//	   --- End of inner exception stack trace ---
//	   at MyApp.HomeController.Index() in /src/MyApp/HomeController.cs:line 17
//
// The exceptions come as sentry-dotnet's MainExceptionProcessor lists them: in reverse
// of the order above, each naming its parent (the exception holding it as
// InnerException, or the AggregateException of InnerExceptions[i]).
func (p *Parser) parseDotNet(sc *scratch, text string) Stack {
	r := &dotnetReader{p: p}
	for _, line := range sc.split(text) {
		r.line(line)
	}
	n := len(r.excs)
	ps := Stack{Exceptions: sc.exceptionList(n), linked: true}
	for i := n - 1; i >= 0; i-- {
		e := r.excs[i]
		e.Type, e.Value = r.heads[i].typeValue()
		e.Frames, _ = boundFrames(reverseFrames(r.frames[i]))
		if e.Parent >= 0 {
			e.Parent = n - 1 - e.Parent // the index in Sentry's order
		}
		ps.Exceptions = append(ps.Exceptions, e)
	}
	return ps
}

// line reads one line of the text.
func (r *dotnetReader) line(line string) {
	// "<---" ends an inner exception of an AggregateException; one line may end several.
	closes := 0
	for {
		s := strings.TrimRight(line, " \t")
		if !strings.HasSuffix(s, "<---") {
			break
		}
		line = s[:len(s)-len("<---")]
		closes++
	}
	trimmed := strings.TrimSpace(line)
	switch {
	case trimmed == "":
	case len(r.open) == 0 && strings.HasPrefix(trimmed, "at "):
		r.push(-1, "", false, "") // the text begins with frames: Exception.StackTrace alone
		r.frame(trimmed[len("at "):])
	case len(r.open) == 0:
		r.push(-1, "", false, trimmed)
	case strings.HasPrefix(trimmed, "---> (Inner Exception #"):
		r.groupMember(trimmed[len("---> (Inner Exception #"):])
	case strings.HasPrefix(trimmed, "---> "):
		top := r.top()
		top.started = true
		source := "InnerException"
		if top.aggregate {
			source = "InnerExceptions[0]"
		}
		r.push(top.index, source, false, trimmed[len("---> "):])
	case strings.HasPrefix(trimmed, "--- End of inner exception stack trace ---"):
		if len(r.open) > 1 && !r.top().inGroup {
			r.open = r.open[:len(r.open)-1]
		}
	case strings.HasPrefix(trimmed, "--- End of stack trace from previous location"):
	case strings.HasPrefix(trimmed, "at "):
		r.frame(trimmed[len("at "):])
	case !r.top().started:
		h := &r.heads[r.top().index]
		h.more = append(h.more, trimmed) // a message of several lines
	}
	for ; closes > 0 && len(r.open) > 1; closes-- {
		// Close the innermost group member and the inner exceptions still open in it.
		for len(r.open) > 1 {
			closed := r.open[len(r.open)-1]
			r.open = r.open[:len(r.open)-1]
			if closed.inGroup {
				break
			}
		}
	}
}

// groupMember opens the Nth inner exception of the innermost open AggregateException
// from the rest of its "---> (Inner Exception #N) Type: message" line.
func (r *dotnetReader) groupMember(rest string) {
	num, header, ok := strings.Cut(rest, ") ")
	if !ok {
		return
	}
	// The exceptions opened after the group's own are complete.
	for len(r.open) > 1 && !r.top().aggregate {
		r.open = r.open[:len(r.open)-1]
	}
	group := r.top()
	group.aggregate, group.started = true, true
	r.excs[group.index].Group = true
	r.push(group.index, "InnerExceptions["+strconv.Itoa(atoi(num))+"]", true, header)
}

func (r *dotnetReader) top() *dotnetOpen { return &r.open[len(r.open)-1] }

// push opens an exception from its first line, the inner exception of parent (an index
// in r.excs, -1 for the raised exception).
func (r *dotnetReader) push(parent int, source string, inGroup bool, header string) {
	header, external := dotnetHeader(header)
	typ, _ := splitTypeValue(header)
	aggregate := typ == dotnetAggregate
	r.excs = append(r.excs, Exception{Parent: parent, Source: source, Group: aggregate})
	r.frames = append(r.frames, nil)
	r.heads = append(r.heads, exceptionHeader{first: header})
	r.open = append(r.open, dotnetOpen{index: len(r.excs) - 1, aggregate: aggregate, inGroup: inGroup, external: external})
}

// frame adds a frame to the exception being read (to its parent when that has the
// ExternalException form).
func (r *dotnetReader) frame(s string) {
	r.top().started = true
	to := len(r.open) - 1
	for to > 0 && r.open[to-1].external && !r.open[to].inGroup {
		to--
	}
	i := r.open[to].index
	r.frames[i] = append(r.frames[i], r.p.dotnetFrame(s))
}

// dotnetHeader takes the code out of an ExternalException's first line, as
// ExternalException.ToString() and Win32Exception.ToString() print it
// ("Npgsql.PostgresException (0x80004005): 23505: ...", "System.Net.Sockets.SocketException
// (111): Connection refused"): the type and message are what is left.
func dotnetHeader(line string) (header string, external bool) {
	sp := strings.IndexByte(line, ' ')
	if sp <= 0 || !strings.HasPrefix(line[sp:], " (") {
		return line, false
	}
	end := strings.IndexByte(line[sp:], ')')
	if end < 0 {
		return line, false
	}
	after := line[sp+end+1:]
	if after != "" && !strings.HasPrefix(after, ": ") {
		return line, false
	}
	return line[:sp] + after, true
}

// dotnetFrame parses a frame as .NET's StackTrace.ToString() prints it, after "at ":
//
//	MyApp.Cache.Get(String key) in /src/MyApp/Cache.cs:line 42
//	MyApp.OrderService.<>c__DisplayClass3_0.<Place>b__0(Item i) in /src/OrderService.cs:line 9
//	MyApp.Repo`1[T].Find[TKey](TKey key)
//	lambda_method5(Closure, Object, Object[])
//
// and gives it the module, function and in_app that sentry-dotnet sends with
// StackTraceMode.Original (DebugStackTrace.CreateFrame): the declaring type's full name
// as module (nested types joined by '+', no generic arguments; "(unknown)" for a method
// without a type), the method's name as function, state machines and lambdas cleaned
// up as the SDK does, in_app false for its InAppExclude prefixes.
func (p *Parser) dotnetFrame(s string) Frame {
	var f Frame
	method := s
	if i := strings.LastIndex(s, ":line "); i >= 0 {
		if j := strings.LastIndex(s[:i], " in "); j >= 0 {
			f.Lineno = atoi(s[i+len(":line "):])
			f.AbsPath = s[j+len(" in ") : i]
			f.Filename = f.AbsPath
			method = s[:j]
		}
	}
	if i := strings.IndexByte(method, '('); i >= 0 {
		method = method[:i] // the parameters, and an iterator's "+MoveNext()"
	}
	typ, name := splitDotnetMethod(method)
	f.Module, f.Function = dotnetTypeName(typ), name
	if m := dotnetStateMachine.FindStringSubmatch(f.Module); m != nil && f.Function == "MoveNext" {
		f.Module, f.Function = m[1], m[2] // .NET Framework prints the state machine
	}
	if m := dotnetLambda.FindStringSubmatch(f.Function); m != nil {
		f.Function = m[1] + " { <lambda> }"
	}
	f.InApp = !p.excluded(f.Module, f.AbsPath) && !dotnetLibrary(f.Module)
	return f
}

// splitDotnetMethod splits "Namespace.Type.Method[T]" into the declaring type and the
// method's name without its generic arguments; a constructor is ".ctor" (".cctor").
func splitDotnetMethod(method string) (typ, name string) {
	if strings.HasSuffix(method, "]") {
		if i := matchingOpen(method, len(method)-1); i > 0 {
			method = method[:i]
		}
	}
	for _, ctor := range []string{"..ctor", "..cctor"} {
		if strings.HasSuffix(method, ctor) {
			return method[:len(method)-len(ctor)], ctor[1:]
		}
	}
	depth := 0
	for i := len(method) - 1; i >= 0; i-- {
		switch method[i] {
		case '>', ']':
			depth++
		case '<', '[':
			depth--
		case '.':
			if depth == 0 {
				return method[:i], method[i+1:]
			}
		}
	}
	return "", method
}

// matchingOpen is the index of the '[' that the ']' at close closes, -1 when none does.
func matchingOpen(s string, close int) int {
	depth := 0
	for i := close; i >= 0; i-- {
		switch s[i] {
		case ']':
			depth++
		case '[':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// dotnetTypeName turns a declaring type as StackTrace.ToString() prints it (nested types
// joined by '.', generic arguments in brackets) into Type.FullName as sentry-dotnet sends
// it: generic arguments dropped, and the compiler's nested types ("<>c",
// "<>c__DisplayClass3_0", "<Run>d__4") joined by '+'. A nested type of the app's own is
// indistinguishable from a namespace in the text and stays joined by '.'. A method
// without a type (a DynamicMethod such as "lambda_method5") is "(unknown)", as the SDK
// names it.
func dotnetTypeName(typ string) string {
	if typ == "" {
		return "(unknown)"
	}
	var b strings.Builder
	b.Grow(len(typ))
	depth := 0
	for i := 0; i < len(typ); i++ {
		c := typ[i]
		switch {
		case c == '[':
			depth++
		case c == ']':
			depth--
		case depth > 0:
		case c == '.' && i+1 < len(typ) && typ[i+1] == '<':
			b.WriteByte('+')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// dotnetLibrary reports whether module starts with one of sentry-dotnet's InAppExclude
// prefixes, ignoring case as the SDK does.
func dotnetLibrary(module string) bool {
	for _, pre := range dotnetLibraryPrefixes {
		if len(module) >= len(pre) && strings.EqualFold(module[:len(pre)], pre) {
			return true
		}
	}
	return false
}
