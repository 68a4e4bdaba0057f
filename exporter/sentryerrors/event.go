package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"net/url"
	"strings"
	"time"

	sentry "github.com/getsentry/sentry-go"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/scrub"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/sentryevent"
	"github.com/procode-ai/otelcol-procode/exporter/sentryerrors/internal/stacktrace"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// mapper turns OTel errors into Sentry events. It holds only configuration and is safe
// for concurrent use.
type mapper struct {
	cfg         *Config
	scrub       *scrub.Scrubber
	stacks      stacktrace.Parser
	headerAllow map[string]string // lower-case allowed header name: its canonical form
	fingerprint []fingerprintPart
	sdk         sentry.SdkInfo
}

func newScrubber(cfg ScrubConfig) *scrub.Scrubber {
	return scrub.New(cfg.ExtraKeys, cfg.ExtraPatterns)
}

func newMapper(cfg *Config, version string) *mapper {
	fp, _ := parseFingerprint(cfg.Fingerprint) // validated in Config.Validate
	allow := make(map[string]string, len(cfg.RequestHeaders))
	for _, h := range cfg.RequestHeaders {
		h = strings.ToLower(strings.TrimSpace(h))
		allow[h] = canonicalHeader(h)
	}
	if version == "" {
		version = "dev"
	}
	return &mapper{
		cfg:         cfg,
		scrub:       newScrubber(cfg.Scrub),
		stacks:      stacktrace.Parser{Exclude: cfg.InAppExclude},
		headerAllow: allow,
		fingerprint: fp,
		sdk: sentry.SdkInfo{
			Name:     "otelcol-procode.sentry_errors",
			Version:  version,
			Packages: []sentry.SdkPackage{{Name: "go:github.com/getsentry/sentry-go", Version: sentry.SDKVersion}},
		},
	}
}

// eventID derives the event_id from what identifies the error, so that delivering the
// same span or log again gives the same id and Sentry drops the duplicate.
func eventID(parts ...[]byte) sentry.EventID {
	var sum [sha256.Size]byte
	size := 0
	for _, p := range parts {
		size += 4 + len(p)
	}
	if size <= 256 {
		// A span's id: its parts in one buffer on the stack, hashed in one call.
		var stack [256]byte
		b := stack[:0]
		for _, p := range parts {
			b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
			b = append(b, p...)
		}
		sum = sha256.Sum256(b)
	} else {
		h := sha256.New()
		var n [4]byte
		for _, p := range parts {
			binary.BigEndian.PutUint32(n[:], uint32(len(p)))
			h.Write(n[:])
			h.Write(p)
		}
		h.Sum(sum[:0])
	}
	var out [32]byte
	hex.Encode(out[:], sum[:16])
	return sentry.EventID(out[:])
}

// sampled decides sample_rate from the event_id, so that a retry gets the same answer.
func sampled(id sentry.EventID, rate float64) bool {
	if rate >= 1 {
		return true
	}
	if rate <= 0 {
		return false
	}
	b, err := hex.DecodeString(string(id[:16]))
	if err != nil || len(b) < 8 {
		return true
	}
	return float64(binary.BigEndian.Uint64(b)>>11)/float64(1<<53) < rate
}

// ignored reports whether typ is listed in ignore_exceptions.
func ignored(list []string, typ string) bool {
	if typ == "" {
		return false
	}
	for _, e := range list {
		if p, ok := strings.CutSuffix(e, "*"); ok {
			if strings.HasPrefix(typ, p) {
				return true
			}
		} else if e == typ {
			return true
		}
	}
	return false
}

// platformOf maps telemetry.sdk.language to a Sentry platform.
func platformOf(lang string) string {
	switch lang {
	case "python", "java", "go", "ruby", "php", "elixir":
		return lang
	case "nodejs":
		return "node"
	case "webjs":
		return "javascript"
	case "dotnet":
		return "csharp"
	case "cpp", "rust":
		return "native"
	case "swift":
		return "cocoa"
	case "erlang":
		return "elixir"
	}
	return "other"
}

// resourceInfo is what every event of one resource shares.
type resourceInfo struct {
	attrs       pcommon.Map
	service     string
	lang        string
	platform    string
	release     string
	environment string
	serverName  string
	mainScript  string               // process.command: Node.js module names are relative to its directory
	runtime     *sentryevent.Runtime // nil when the resource names none
	os          *sentryevent.OS
	filled      bool // by resourceInto
}

func (m *mapper) resource(res pcommon.Resource) *resourceInfo {
	ri := &resourceInfo{}
	m.resourceInto(ri, res)
	return ri
}

// resourceInto fills ri from a resource.
func (m *mapper) resourceInto(ri *resourceInfo, res pcommon.Resource) {
	a := res.Attributes()
	*ri = resourceInfo{
		filled:     true,
		attrs:      a,
		service:    str(a, "service.name"),
		lang:       str(a, "telemetry.sdk.language"),
		release:    truncate(str(a, "service.version"), 256),
		serverName: truncate(str(a, "host.name"), 256),
		mainScript: str(a, "process.command"),
	}
	ri.platform = platformOf(ri.lang)
	ri.environment = truncate(str(a, "deployment.environment.name", "deployment.environment"), 256)
	if ri.environment == "" {
		ri.environment = m.cfg.Environment
	}
	if m.cfg.EnvironmentOverride != "" {
		ri.environment = m.cfg.EnvironmentOverride
	}
	if name, version := str(a, "process.runtime.name"), str(a, "process.runtime.version"); name != "" || version != "" {
		ri.runtime = &sentryevent.Runtime{Name: truncate(name, 256), Version: truncate(version, 256),
			RawDescription: truncate(str(a, "process.runtime.description"), maxValueLen)}
	}
	if name := str(a, "os.name", "os.type"); name != "" {
		ri.os = &sentryevent.OS{Name: truncate(name, 256), Version: truncate(str(a, "os.version"), 256),
			Build: truncate(str(a, "os.build_id"), 256), RawDescription: truncate(str(a, "os.description"), maxValueLen)}
	}
}

// newEvent fills what every event of a resource has.
func (m *mapper) newEvent(ri *resourceInfo, id sentry.EventID, ts time.Time, c *scrub.Counts) *sentryevent.Event {
	ev := &sentryevent.Event{}
	ev.EventID = id
	ev.Timestamp = ts.UTC()
	ev.Platform = ri.platform
	ev.Release = m.scrub.Text(ri.release, c)
	ev.Environment = m.scrub.Text(ri.environment, c)
	ev.ServerName = m.scrub.Text(ri.serverName, c)
	ev.Sdk = &m.sdk
	if ri.service != "" {
		ev.Tags.Set(sentryevent.TagService, tagValue(m.scrub.Text(truncate(ri.service, 256), c)))
	}
	// Shared by the resource's events, which only read them.
	ev.Contexts.Runtime, ev.Contexts.OS = ri.runtime, ri.os
	return ev
}

// exceptionInput is what OTel says about one exception.
type exceptionInput struct {
	typ, message, stacktrace string
	mechanism                string
}

// exceptions builds the event's exception list, the root cause first and the raised
// exception last, and the goroutine threads of a Go dump.
func (m *mapper) exceptions(ev *sentryevent.Event, ri *resourceInfo, in exceptionInput, c *scrub.Counts) (mainType string, panicked bool) {
	ps := m.stacks.Parse(ri.lang, in.stacktrace, stacktrace.Hints{ExceptionType: in.typ, MainScript: ri.mainScript})
	if len(ps.Exceptions) == 0 {
		ps.Exceptions = []stacktrace.Exception{{Parent: -1}}
	}
	if ri.platform == "other" && ps.Language != "" {
		ev.Platform = platformOf(ps.Language) // the resource did not say; the stack does
	}
	main := &ps.Exceptions[len(ps.Exceptions)-1]
	// The attributes are what the SDK knew; the text fills what they lack.
	if in.typ != "" {
		setType(main, in.typ, cmp.Or(ps.Language, ri.lang))
	}
	if in.message != "" {
		main.Value = in.message
	}
	if main.Type == "" && main.Value == "" {
		main.Type = "Error"
	}
	out := make([]sentryevent.Exception, len(ps.Exceptions))
	unnumbered := cmp.Or(ps.Language, ri.lang) == "python"
	for i, pe := range ps.Exceptions {
		for j := range pe.Frames {
			f := &pe.Frames[j]
			boundFrameFields(f)
			if f.ContextLine != "" {
				f.ContextLine = m.scrub.Text(f.ContextLine, c)
			}
		}
		e := sentryevent.Exception{
			Type:   m.scrub.Text(truncate(pe.Type, 256), c),
			Value:  m.scrub.Text(truncate(pe.Value, maxMessageLen), c),
			Module: truncate(pe.Module, 256),
		}
		e.Stacktrace.Frames = pe.Frames
		e.Mechanism = mechanismOf(ps, i, in.mechanism, unnumbered)
		out[i] = e
	}
	ev.Exceptions = out
	for _, t := range ps.Threads {
		for j := range t.Frames {
			boundFrameFields(&t.Frames[j])
		}
		ev.Threads = append(ev.Threads, sentryevent.Thread{ID: t.ID, Name: t.Name, Crashed: t.Crashed, Current: t.Current,
			Stacktrace: sentryevent.StackTrace{Frames: t.Frames, FramesOmitted: t.FramesOmitted}})
	}
	return main.Type, ps.Panic
}

// mechanismOf is the mechanism of the ith exception of ps: exception_id 0 is the raised
// exception, its cause 1, the cause's cause 2, ... (the exceptions are listed in the
// reverse of that order, trees included), each naming its parent. sentry-python numbers
// no plain chain (only exception groups, which a traceback does not show as such), so a
// Python chain is unnumbered; the other SDKs number every chain.
func mechanismOf(ps stacktrace.Stack, i int, raised string, unnumbered bool) sentryevent.Mechanism {
	last := len(ps.Exceptions) - 1
	pe := &ps.Exceptions[i]
	m := sentryevent.Mechanism{Type: raised, ExceptionID: last - i, Group: pe.Group, Unnumbered: unnumbered}
	switch {
	case pe.Parent >= 0:
		m.Type, m.Source = "chained", cmp.Or(pe.Source, "cause")
		m.ParentID, m.HasParent = last-pe.Parent, true
	case ps.Panic:
		m.Type, m.Unhandled = "panic", true
	}
	return m
}

// setType sets the raised exception's type from exception.type. Python's and Java's SDKs
// send the type's bare name and its module (package) apart: OTel's qualified name is
// split so, and a bare name that is what the text names in full keeps the text's module
// (OTel Python's log handler records the bare name, its spans the qualified one: both
// give the same type and module).
func setType(e *stacktrace.Exception, typ, lang string) {
	if lang == "go" {
		// OTel Go names a named error type by its package path ("github.com/x/pay.Err"),
		// sentry-go by reflect's String ("pay.Err").
		typ = typ[strings.LastIndexByte(typ, '/')+1:]
	}
	if typ == e.Type {
		return
	}
	if i := strings.LastIndexByte(typ, '.'); i > 0 && (lang == "python" || lang == "java") {
		e.Module, e.Type = typ[:i], typ[i+1:]
		return
	}
	e.Type, e.Module = typ, ""
}

// boundFrameFields cuts a frame's texts to maxValueLen.
func boundFrameFields(f *stacktrace.Frame) {
	f.Function = truncate(f.Function, maxValueLen)
	f.Module = truncate(f.Module, maxValueLen)
	f.Filename = truncate(f.Filename, maxValueLen)
	f.AbsPath = truncate(f.AbsPath, maxValueLen)
	f.ContextLine = truncate(f.ContextLine, maxValueLen)
}

// groupKey approximates Sentry's default grouping for fingerprint_limit: service,
// exception type and the innermost app frame, or the message when there is no frame.
func groupKey(ev *sentryevent.Event) string {
	h := fnv.New64a()
	service, _ := ev.Tags.Get(sentryevent.TagService)
	h.Write([]byte(service))
	if len(ev.Fingerprint) > 0 && !(len(ev.Fingerprint) == 1 && ev.Fingerprint[0] == "{{ default }}") {
		for _, f := range ev.Fingerprint {
			h.Write([]byte{0})
			h.Write([]byte(f))
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	if n := len(ev.Exceptions); n > 0 {
		e := ev.Exceptions[n-1]
		h.Write([]byte(e.Type))
		var top *stacktrace.Frame
		for i := len(e.Stacktrace.Frames) - 1; i >= 0; i-- {
			if e.Stacktrace.Frames[i].InApp {
				top = &e.Stacktrace.Frames[i]
				break
			}
		}
		if top != nil {
			h.Write([]byte(top.Module + "\x00" + top.Function + "\x00" + top.Filename))
		} else {
			h.Write([]byte(e.Value))
		}
	} else {
		h.Write([]byte(ev.Message))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fingerprintValues renders the configured fingerprint for one event.
func (m *mapper) fingerprintValues(mainType, name string, attrs, res pcommon.Map, c *scrub.Counts) []string {
	if len(m.fingerprint) == 0 {
		return nil
	}
	out := make([]string, 0, len(m.fingerprint))
	for _, p := range m.fingerprint {
		var v string
		switch p.kind {
		case "":
			v = p.literal
		case "default":
			v = "{{ default }}"
		case "exception.type":
			v = mainType
		case "span.name":
			v = name
		case "attr", "resource":
			if rule, deny := m.scrub.KeyRule(p.key); deny {
				c[rule]++
				v = scrub.Filtered
			} else if p.kind == "attr" {
				v = str(attrs, p.key)
			} else {
				v = str(res, p.key)
			}
		}
		out = append(out, m.scrub.Text(truncate(v, 256), c))
	}
	return out
}

// cleanURL drops the query string, fragment and credentials of a URL.
func cleanURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			raw = raw[:i]
		}
		return raw
	}
	u.RawQuery, u.Fragment, u.RawFragment, u.User, u.ForceQuery = "", "", "", nil, false
	return u.String()
}

// request builds the event's HTTP request from a server or client span's attributes.
func (m *mapper) request(attrs pcommon.Map, c *scrub.Counts) *sentry.Request {
	method := str(attrs, "http.request.method", "http.method")
	if method == "" {
		return nil
	}
	r := &sentry.Request{}
	r.Method = m.scrub.Text(truncate(method, 32), c)
	if full := str(attrs, "url.full", "http.url"); full != "" {
		r.URL = cleanURL(full)
	} else {
		scheme := str(attrs, "url.scheme", "http.scheme")
		host := str(attrs, "server.address", "http.host", "net.host.name")
		path := str(attrs, "url.path", "http.target")
		if i := strings.IndexAny(path, "?#"); i >= 0 {
			path = path[:i]
		}
		if port := str(attrs, "server.port", "net.host.port"); port != "" && host != "" && !strings.Contains(host, ":") &&
			!(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
			host += ":" + port
		}
		switch {
		case host != "" && scheme != "":
			r.URL = scheme + "://" + host + path
		case host != "":
			r.URL = "http://" + host + path
		default:
			r.URL = path
		}
	}
	r.URL = m.scrub.Text(truncate(r.URL, maxValueLen), c)
	r.Headers = m.requestHeaders(attrs, c)
	return r
}

// requestHeaders are the http.request.header.* attributes in request_headers, by their
// canonical names; a header whose name is on the deny list is [Filtered].
func (m *mapper) requestHeaders(attrs pcommon.Map, c *scrub.Counts) map[string]string {
	var headers map[string]string
	for k, v := range attrs.All() {
		name, ok := strings.CutPrefix(k, "http.request.header.")
		if !ok {
			continue
		}
		header, allowed := m.headerAllow[lowerASCII(name)]
		if !allowed {
			continue
		}
		if headers == nil {
			headers = make(map[string]string, 4)
		}
		if rule, deny := m.scrub.KeyRule(name); deny {
			c[rule]++
			headers[header] = scrub.Filtered
			continue
		}
		var val string
		switch v.Type() {
		case pcommon.ValueTypeStr:
			val = v.Str()
		case pcommon.ValueTypeSlice: // the semantic convention: one entry per header line
			sl := v.Slice()
			if sl.Len() == 1 {
				val = sl.At(0).AsString()
				break
			}
			parts := make([]string, 0, sl.Len())
			for _, p := range sl.All() {
				parts = append(parts, p.AsString())
			}
			val = strings.Join(parts, ",")
		default:
			val = v.AsString()
		}
		headers[header] = m.scrub.Text(truncate(val, maxValueLen), c)
	}
	return headers
}

func canonicalHeader(h string) string {
	b := []byte(strings.ToLower(h))
	upper := true
	for i, ch := range b {
		if upper && ch >= 'a' && ch <= 'z' {
			b[i] = ch - 'a' + 'A'
		}
		upper = ch == '-' || ch == '_'
	}
	return string(b)
}

// user builds the event's user; email, name and IP address only with send_default_pii.
func (m *mapper) user(attrs pcommon.Map, c *scrub.Counts) sentry.User {
	u := sentry.User{ID: m.scrub.Text(truncate(str(attrs, "enduser.id", "user.id"), 256), c)}
	if m.cfg.SendDefaultPII {
		u.Email = truncate(str(attrs, "user.email", "enduser.email"), 256)
		u.Username = truncate(str(attrs, "user.name", "enduser.name"), 256)
		u.IPAddress = truncate(str(attrs, "client.address", "http.client_ip"), 64)
	}
	return u
}
