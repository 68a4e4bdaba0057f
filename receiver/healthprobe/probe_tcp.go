package healthprobe // import "github.com/procode-ai/otelcol-procode/receiver/healthprobe"

import (
	"context"
	"fmt"
	"net"
	"time"

	"go.opentelemetry.io/collector/component"
)

// tcpProber opens a TCP connection and closes it again.
type tcpProber struct {
	endpoint string
	dialer   net.Dialer
}

func newTCPProber(cfg *ProbeConfig) *tcpProber {
	return &tcpProber{endpoint: cfg.ClientConfig.Endpoint}
}

func (*tcpProber) start(context.Context, component.Host) error { return nil }
func (*tcpProber) shutdown(context.Context) error              { return nil }

func (p *tcpProber) probe(ctx context.Context) outcome {
	start := time.Now()
	conn, err := p.dialer.DialContext(ctx, "tcp", p.endpoint)
	if err != nil {
		return failedErr(err)
	}
	elapsed := time.Since(start)
	_ = conn.Close()
	return outcome{ok: true, message: fmt.Sprintf("connected in %s", round(elapsed))}
}
