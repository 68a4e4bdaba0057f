package healthprobe // import "github.com/procode-ai/otelcol-procode/receiver/healthprobe"

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/collector/component"

	"github.com/procode-ai/otelcol-procode/internal/safetext"
	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"
)

// prober runs one kind of check. start and shutdown bracket its life; probe is called
// at most once at a time and must return when ctx ends.
type prober interface {
	start(ctx context.Context, host component.Host) error
	probe(ctx context.Context) outcome
	shutdown(ctx context.Context) error
}

// outcome is what one run of a prober found. A failed run has ok false and an
// errorType; message is short text written here, never a response body or a secret.
type outcome struct {
	ok        bool
	degraded  bool // passed, but a degraded threshold was crossed
	errorType metadata.AttributeErrorType
	message   string
	details   map[string]any

	http   *httpObservation
	disk   *diskObservation
	memory *memoryObservation
}

func failed(errType metadata.AttributeErrorType, message string) outcome {
	return outcome{errorType: errType, message: safetext.Clean(message)}
}

// failedErr classifies err and turns it into a failed outcome whose message is err's
// cleaned text without any URL.
func failedErr(err error) outcome {
	return failed(classify(err), errorText(err))
}

// classify maps an error to the bounded error.type enum.
func classify(err error) metadata.AttributeErrorType {
	var (
		dnsErr    *net.DNSError
		pgErr     *pgconn.PgError
		certErr   *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		alert     tls.AlertError
		record    tls.RecordHeaderError
		netErr    net.Error
	)
	switch {
	case errors.As(err, &pgErr):
		// 28000 invalid_authorization_specification, 28P01 invalid_password.
		if pgErr.Code == "28000" || pgErr.Code == "28P01" {
			return metadata.AttributeErrorTypeAuth
		}
		return metadata.AttributeErrorTypeOther
	case errors.As(err, &dnsErr):
		return metadata.AttributeErrorTypeDNS
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr),
		errors.As(err, &invalid), errors.As(err, &alert), errors.As(err, &record):
		return metadata.AttributeErrorTypeTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		return metadata.AttributeErrorTypeConnectionRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return metadata.AttributeErrorTypeTimeout
	}
	return metadata.AttributeErrorTypeOther
}

// errorText is err's message without the URL that net/http puts in front of it.
func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return safetext.Error(err)
}

// round returns d rounded for messages: milliseconds below a second.
func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Millisecond)
}
