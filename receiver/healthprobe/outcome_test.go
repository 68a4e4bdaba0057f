package healthprobe

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"

	"github.com/procode-ai/otelcol-procode/receiver/healthprobe/internal/metadata"
)

func TestClassify(t *testing.T) {
	wrap := func(err error) error {
		return &url.Error{Op: "Get", URL: "http://user:pw@host/x?token=1", Err: err}
	}
	tests := []struct {
		name string
		err  error
		want metadata.AttributeErrorType
	}{
		{"dns", wrap(&net.DNSError{Err: "no such host", Name: "api.example.invalid", IsNotFound: true}), metadata.AttributeErrorTypeDNS},
		{"refused", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), metadata.AttributeErrorTypeConnectionRefused},
		{"deadline", wrap(context.DeadlineExceeded), metadata.AttributeErrorTypeTimeout},
		{"unknown_ca", wrap(x509.UnknownAuthorityError{}), metadata.AttributeErrorTypeTLS},
		{"hostname", wrap(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "x"}), metadata.AttributeErrorTypeTLS},
		{"pg_bad_password", fmt.Errorf("connect: %w", &pgconn.PgError{Code: "28P01"}), metadata.AttributeErrorTypeAuth},
		{"pg_no_role", &pgconn.PgError{Code: "28000"}, metadata.AttributeErrorTypeAuth},
		{"pg_other", &pgconn.PgError{Code: "57P01"}, metadata.AttributeErrorTypeOther},
		{"other", errors.New("something else"), metadata.AttributeErrorTypeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, classify(tt.err))
		})
	}
}

func TestErrorTextDropsTheURL(t *testing.T) {
	err := &url.Error{Op: "Get", URL: "https://user:hunter2@api.example.com/v1/models?key=sk-abc", Err: errors.New("EOF")}
	assert.Equal(t, "EOF", errorText(err))
	o := failedErr(errors.New(`dial "postgres://app:hunter2@db:5432/app?sslmode=disable": password=hunter2 refused`))
	assert.NotContains(t, o.message, "hunter2")
	assert.NotContains(t, o.message, "sslmode")
}
