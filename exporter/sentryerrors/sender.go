package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	sentry "github.com/getsentry/sentry-go"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"

	"github.com/procode-ai/otelcol-procode/internal/safetext"
)

// target is one Sentry project: its envelope endpoint, auth header and rate limits.
type target struct {
	url       string
	auth      string
	publicKey string
	holds     holds
}

func newTarget(dsn, client string) (*target, error) {
	d, err := sentry.NewDsn(dsn)
	if err != nil {
		return nil, err
	}
	auth := "Sentry sentry_version=7, sentry_client=" + client + ", sentry_key=" + d.GetPublicKey()
	if s := d.GetSecretKey(); s != "" {
		auth += ", sentry_secret=" + s
	}
	return &target{url: d.GetAPIURL().String(), auth: auth, publicKey: d.GetPublicKey()}, nil
}

// sender delivers encoded events. It is the exporterhelper's consume function: the
// helper's timeout, retry and queue wrap it.
type sender struct {
	client  *http.Client
	targets map[string]*target // by route; "" is dsn
	retry   configretry.BackOffConfig
	sdk     *sentry.SdkInfo
	ua      string
	now     func() time.Time
	tel     *telemetry
}

func (s *sender) target(route string) *target {
	if t, ok := s.targets[route]; ok {
		return t
	}
	return s.targets[""] // a persisted route whose service left dsn_by_service
}

// push sends each event of the request in its own envelope. Events Sentry accepted or
// rejected for good are done. The events of a project under a rate limit wait (the other
// projects' events of the request go on); on a 5xx or a network error the rest waits
// too. What waits is returned in an unsentError so that the retry sends only those.
func (s *sender) push(ctx context.Context, req xexporterhelper.Request) error {
	r, ok := req.(*eventsRequest)
	if !ok {
		return consumererror.NewPermanent(fmt.Errorf("unexpected request type %T", req))
	}
	if r.started.IsZero() {
		r.started = s.now()
	}
	var rejected []error
	var held []encodedEvent // of projects under a rate limit
	limited := errors.New("sentry rate limit in force for error events")
	for i := range r.events {
		e := &r.events[i]
		t := s.target(e.route)
		if t == nil {
			s.tel.dropped(ctx, dropNoDSN, 1)
			continue
		}
		if t.holds.heldFor(s.now()) > 0 {
			held = append(held, *e)
			continue
		}
		status, hdr, detail, err := s.post(ctx, t, *e)
		switch {
		case err != nil:
			return &unsentError{err: err, unsent: append(held, r.events[i:]...)}
		case status >= 200 && status < 300:
			s.tel.sent(ctx, 1)
			// Sentry may announce limits on a successful response too.
			if d, ok := errorCategoryLimit(hdr.Get("X-Sentry-Rate-Limits")); ok && d > 0 {
				t.holds.hold(s.now().Add(d))
			}
		case status == http.StatusTooManyRequests:
			t.holds.hold(s.now().Add(throttleDelay(hdr, s.now())))
			held = append(held, *e)
			limited = fmt.Errorf("sentry answered 429 Too Many Requests%s", detail)
		case status >= 300 && status < 400:
			// A redirect elsewhere is not followed (see sameOrigin): the DSN is wrong.
			s.tel.dropped(ctx, dropPermanentError, 1)
			rejected = append(rejected, fmt.Errorf("sentry answered %d %s to %s for event %s: not followed, the DSN's key would go to another host; check the DSN",
				status, http.StatusText(status), redirectTarget(hdr.Get("Location")), e.eventID))
		case status >= 400 && status < 500:
			s.tel.dropped(ctx, dropPermanentError, 1)
			rejected = append(rejected, fmt.Errorf("sentry rejected event %s with %d %s%s", e.eventID, status, http.StatusText(status), detail))
		default:
			return &unsentError{err: fmt.Errorf("sentry answered %d %s%s", status, http.StatusText(status), detail), unsent: append(held, r.events[i:]...)}
		}
	}
	if len(held) > 0 {
		return s.throttled(ctx, r, held, errors.Join(append([]error{limited}, rejected...)...))
	}
	if len(rejected) > 0 {
		return consumererror.NewPermanent(errors.Join(rejected...))
	}
	return nil
}

// throttled holds the events of rate-limited projects until the first limit ends, and
// drops (counted as rate_limited) those whose project's limit ends after
// retry_on_failure would give up.
func (s *sender) throttled(ctx context.Context, r *eventsRequest, held []encodedEvent, cause error) error {
	deadline := time.Time{}
	if !s.retry.Enabled {
		deadline = r.started
	} else if s.retry.MaxElapsedTime > 0 {
		deadline = r.started.Add(s.retry.MaxElapsedTime)
	}
	now := s.now()
	var wait []encodedEvent
	var delay time.Duration
	for _, e := range held {
		d := s.target(e.route).holds.heldFor(now)
		if !deadline.IsZero() && now.Add(d).After(deadline) {
			continue
		}
		if len(wait) == 0 || d < delay {
			delay = d
		}
		wait = append(wait, e)
	}
	if dropped := len(held) - len(wait); dropped > 0 {
		s.tel.dropped(ctx, dropRateLimited, int64(dropped))
		if len(wait) == 0 {
			return consumererror.NewPermanent(fmt.Errorf("%w: error events are held past what retry_on_failure allows; %d event(s) dropped", cause, dropped))
		}
		cause = fmt.Errorf("%w; %d event(s) held past what retry_on_failure allows dropped", cause, dropped)
	}
	return exporterhelper.NewThrottleRetry(&unsentError{err: cause, unsent: wait}, delay)
}

// post sends one envelope; detail is Sentry's X-Sentry-Error, cleaned and bounded.
func (s *sender) post(ctx context.Context, t *target, e encodedEvent) (int, http.Header, string, error) {
	body, err := encodeEnvelope(e, t.publicKey, s.now(), s.sdk)
	if err != nil {
		return 0, nil, "", consumererror.NewPermanent(fmt.Errorf("encode envelope: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, "", consumererror.NewPermanent(fmt.Errorf("build request: %s", safetext.Error(err)))
	}
	req.Header.Set("Content-Type", "application/x-sentry-envelope")
	req.Header.Set("X-Sentry-Auth", t.auth)
	req.Header.Set("User-Agent", s.ua)
	resp, err := s.client.Do(req)
	if err != nil {
		// The URL holds no key (it is in the header), but clean the text all the same.
		return 0, nil, "", errors.New("send to sentry: " + safetext.Error(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	detail := ""
	if x := resp.Header.Get("X-Sentry-Error"); x != "" {
		detail = ": " + safetext.Clean(strings.TrimSpace(x))
	}
	return resp.StatusCode, resp.Header, detail, nil
}

// redirectTarget names where a redirect points, scheme and host only.
func redirectTarget(location string) string {
	u, err := url.Parse(location)
	if err != nil || u.Host == "" {
		return "another location"
	}
	return safetext.Truncate(u.Scheme+"://"+u.Host, 256)
}
