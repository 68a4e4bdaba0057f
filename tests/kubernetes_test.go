package tests

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// kubeCollectorPod is what the validation needs from a workload: its container and the
// ConfigMaps mounted into it.
type kubeCollectorPod struct {
	name      string
	container corev1.Container
	volumes   []corev1.Volume
}

func loadKubeCollectorPods(t *testing.T) ([]kubeCollectorPod, map[string]*corev1.ConfigMap, *corev1.Secret) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(harness.RepoRoot(), "config", "kubernetes", "*.yaml"))
	require.NoError(t, err)
	var pods []kubeCollectorPod
	configMaps := map[string]*corev1.ConfigMap{}
	var secret *corev1.Secret
	sep := regexp.MustCompile(`(?m)^---[ \t]*$`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, doc := range sep.Split(string(b), -1) {
			var head struct{ Kind string }
			require.NoError(t, k8syaml.Unmarshal([]byte(doc), &head), f)
			switch head.Kind {
			case "ConfigMap":
				cm := &corev1.ConfigMap{}
				require.NoError(t, k8syaml.Unmarshal([]byte(doc), cm))
				configMaps[cm.Name] = cm
			case "Secret":
				secret = &corev1.Secret{}
				require.NoError(t, k8syaml.Unmarshal([]byte(doc), secret))
			case "Deployment":
				d := &appsv1.Deployment{}
				require.NoError(t, k8syaml.Unmarshal([]byte(doc), d))
				pods = append(pods, kubeCollectorPod{"Deployment/" + d.Name, d.Spec.Template.Spec.Containers[0], d.Spec.Template.Spec.Volumes})
			case "DaemonSet":
				d := &appsv1.DaemonSet{}
				require.NoError(t, k8syaml.Unmarshal([]byte(doc), d))
				pods = append(pods, kubeCollectorPod{"DaemonSet/" + d.Name, d.Spec.Template.Spec.Containers[0], d.Spec.Template.Spec.Volumes})
			}
		}
	}
	require.Len(t, pods, 2, "the gateway Deployment and the agent DaemonSet")
	require.NotNil(t, secret, "config/kubernetes/secret.example.yaml")
	return pods, configMaps, secret
}

// podCommand turns a pod's container into a command line on this machine: its --config
// files mapped to the ConfigMap keys (written to dir) or to the repository files the
// Dockerfile copies into the image, and its environment with Secret values from the
// example Secret and field references given a sample value.
func podCommand(t *testing.T, pod kubeCollectorPod, configMaps map[string]*corev1.ConfigMap, secret *corev1.Secret, dir string) (configs []string, env map[string]string) {
	t.Helper()
	mounts := map[string]*corev1.ConfigMap{}
	for _, vm := range pod.container.VolumeMounts {
		for _, v := range pod.volumes {
			if v.Name == vm.Name && v.ConfigMap != nil {
				require.Contains(t, configMaps, v.ConfigMap.Name)
				mounts[vm.MountPath] = configMaps[v.ConfigMap.Name]
			}
		}
	}
	image := map[string]string{ // as the Dockerfile copies them
		"/etc/otelcol-procode/otelcol.yaml": "config/otelcol.yaml",
	}
	for _, a := range pod.container.Args {
		path, ok := strings.CutPrefix(a, "--config=")
		require.True(t, ok, "%s: argument %q: only --config is expected", pod.name, a)
		switch {
		case image[path] != "":
			configs = append(configs, filepath.Join(harness.RepoRoot(), image[path]))
		case strings.HasPrefix(path, "/etc/otelcol-procode/overlays/"):
			configs = append(configs, filepath.Join(harness.RepoRoot(), "config", "overlays", filepath.Base(path)))
		default:
			cm := mounts[filepath.Dir(path)]
			require.NotNil(t, cm, "%s: %s is in no mounted ConfigMap", pod.name, path)
			data, ok := cm.Data[filepath.Base(path)]
			require.True(t, ok, "%s: ConfigMap %s has no key %s", pod.name, cm.Name, filepath.Base(path))
			local := filepath.Join(dir, cm.Name+"-"+filepath.Base(path))
			require.NoError(t, os.WriteFile(local, []byte(data), 0o600))
			configs = append(configs, local)
		}
	}
	env = map[string]string{}
	for _, e := range pod.container.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			v, ok := secret.StringData[e.ValueFrom.SecretKeyRef.Key]
			require.True(t, ok, "%s: env %s reads key %s, which the example Secret lacks", pod.name, e.Name, e.ValueFrom.SecretKeyRef.Key)
			env[e.Name] = v
		case e.ValueFrom.FieldRef != nil:
			env[e.Name] = "node-1"
		default:
			t.Fatalf("%s: env %s: a source this test does not handle", pod.name, e.Name)
		}
	}
	return configs, env
}

func validateArgs(configs []string) []string {
	args := []string{"validate"}
	for _, c := range configs {
		args = append(args, "--config="+c)
	}
	return args
}

func envList(env map[string]string) []string {
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// TestKubernetesConfigsValidate runs `otelcol-procode validate` on what each pod in
// config/kubernetes/ would run: the same --config files (ConfigMap keys, files in the
// image) with the same environment (the example Secret's values).
func TestKubernetesConfigsValidate(t *testing.T) {
	bin := harness.Binary(t)
	pods, configMaps, secret := loadKubeCollectorPods(t)
	for _, pod := range pods {
		t.Run(pod.name, func(t *testing.T) {
			dir := t.TempDir()
			configs, envMap := podCommand(t, pod, configMaps, secret, dir)
			args, env := validateArgs(configs), envList(envMap)
			cmd := exec.Command(bin, args...)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s %s:\n%s", bin, strings.Join(args, " "), out)

			// The same check fails on a broken ConfigMap: a misspelt key is refused.
			for i, a := range args {
				if p, ok := strings.CutPrefix(a, "--config="); ok && strings.HasPrefix(p, dir) {
					b, err := os.ReadFile(p)
					require.NoError(t, err)
					broken := strings.Replace(string(b), "receivers:", "receivers:\n  otlp_typo: {}", 1)
					brokenPath := p + ".broken"
					require.NoError(t, os.WriteFile(brokenPath, []byte(broken), 0o600))
					brokenArgs := append(append([]string(nil), args[:i]...), append([]string{"--config=" + brokenPath}, args[i+1:]...)...)
					cmd := exec.Command(bin, brokenArgs...)
					cmd.Env = env
					out, err := cmd.CombinedOutput()
					assert.Error(t, err, "validate accepted a config with an unknown receiver:\n%s", out)
					assert.Contains(t, string(out), "otlp_typo")
				}
			}
		})
	}
}

// listenerEnv are the variables harness.Start sets to free loopback ports; a pod's own
// values (0.0.0.0 and fixed ports) are left out when the test runs its config.
var listenerEnv = map[string]bool{
	"OTLP_GRPC_ENDPOINT": true, "OTLP_HTTP_ENDPOINT": true, "PROMETHEUS_ENDPOINT": true,
	"TELEMETRY_HOST": true, "TELEMETRY_PORT": true, "READINESS_ENDPOINT": true,
}

func podEnvForTest(env map[string]string, overrides map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		if !listenerEnv[k] {
			out[k] = v
		}
	}
	for k, v := range overrides {
		out[k] = v
	}
	return out
}

// TestKubernetesAgentToGateway runs the agent and the gateway as config/kubernetes/
// configures them (their --config files and environment, on loopback ports) and sends
// an app's traces, metrics and logs to the agent: the gateway must turn the spans into
// span and LLM metrics, forward the traces to the trace backend with the agent's node
// attribute, and receive the metrics and logs; the agent must expose its node probes.
func TestKubernetesAgentToGateway(t *testing.T) {
	pods, configMaps, secret := loadKubeCollectorPods(t)
	byName := map[string]kubeCollectorPod{}
	for _, p := range pods {
		byName[p.name] = p
	}
	dir := t.TempDir()

	sink, sinkAddr := startTraceIDSink(t)
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"object":"list","data":[]}`))
	}))
	t.Cleanup(llm.Close)

	gwConfigs, gwEnv := podCommand(t, byName["Deployment/otelcol-procode-gateway"], configMaps, secret, dir)
	gateway := harness.Start(t, harness.Options{Configs: gwConfigs, Env: podEnvForTest(gwEnv, map[string]string{
		"OTLP_TRACES_ENDPOINT":     sinkAddr,
		"OTLP_TRACES_INSECURE":     "true",
		"TRACES_DECISION_WAIT":     "1s",
		"TRACES_SAMPLE_PERCENTAGE": "100",
		"SENTRY_DSN":               "", // the example DSN's host is not on this machine
		"PROCODE_DB_HOST":          "127.0.0.1",
		"PROCODE_DB_PORT":          strconv.Itoa(harness.FreePort(t)), // nothing listens: the probe fails, not critical
		"LLM_MODELS_URL":           llm.URL,
		"HEALTH_PROBE_INTERVAL":    "6s",
	})})

	agConfigs, agEnv := podCommand(t, byName["DaemonSet/otelcol-procode-agent"], configMaps, secret, dir)
	agent := harness.Start(t, harness.Options{Configs: agConfigs, Env: podEnvForTest(agEnv, map[string]string{
		// The headless Service's DNS name resolves to the ready gateway pods; here the
		// one gateway's address.
		"GATEWAY_HEADLESS_SERVICE": "127.0.0.1",
		"GATEWAY_OTLP_PORT":        strconv.Itoa(gateway.Ports.OTLPGRPC),
		"GATEWAY_ENDPOINT":         gateway.OTLPGRPCEndpoint(),
		"HEALTH_PROBE_INTERVAL":    "2s",
		"HEALTH_PROBE_TIMEOUT":     "1s",
	})})

	const service, traces = "e2e-k8s", 20
	tp := harness.TracerProvider(t, agent, service)
	tracer := tp.Tracer("e2e-k8s")
	for i := 0; i < traces; i++ {
		ctx, root := tracer.Start(context.Background(), "POST /api/chat", trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", "POST"), attribute.String("http.route", "/api/chat"),
				attribute.Int("http.response.status_code", 200)))
		_, llmSpan := tracer.Start(ctx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
			attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", "openai"),
			attribute.String("gen_ai.request.model", "gpt-4o"),
			attribute.Int("gen_ai.usage.input_tokens", 1000), attribute.Int("gen_ai.usage.output_tokens", 100)))
		llmSpan.End()
		root.End()
	}
	mp := harness.MeterProvider(t, agent, service)
	counter, err := mp.Meter("e2e-k8s").Int64Counter("e2e.k8s.requests")
	require.NoError(t, err)
	counter.Add(context.Background(), 7)
	require.NoError(t, mp.ForceFlush(context.Background()))
	lp := harness.LoggerProvider(t, agent, service)
	var rec otellog.Record
	rec.SetSeverity(otellog.SeverityInfo)
	rec.SetBody(attribute.StringValue("through the agent"))
	lp.Logger("e2e-k8s").Emit(context.Background(), rec)

	svc := map[string]string{"service_name": service}
	harness.Eventually(t, 60*time.Second, func() string {
		fams, err := harness.Scrape(gateway.MetricsURL())
		if err != nil {
			return err.Error()
		}
		if calls, _ := fams.Sum("traces_span_metrics_calls_total", svc); calls != 2*traces {
			return fmt.Sprintf("gateway span metrics count %v spans of %s, want %d", calls, service, 2*traces)
		}
		if reqs, _ := fams.Sum("llm_requests_total", svc); reqs != traces {
			return fmt.Sprintf("gateway llm_requests_total %v, want %d", reqs, traces)
		}
		if v, _ := fams.Sum("e2e_k8s_requests_total", nil); v != 7 {
			return fmt.Sprintf("the app's counter on the gateway is %v, want 7:\n%s", v, fams.Series("e2e_k8s_requests_total"))
		}
		tel, err := harness.Scrape(gateway.TelemetryURL())
		if err != nil {
			return err.Error()
		}
		if logs, _ := tel.Sum("otelcol_receiver_accepted_log_records", nil); logs < 1 {
			return "the gateway has received no log record from the agent"
		}
		if _, spans := sink.snapshot(); spans != 2*traces {
			return fmt.Sprintf("the trace backend has %d spans, want %d", spans, 2*traces)
		}
		return ""
	})
	assert.Equal(t, traces, len(sink.traceIDs()), "every trace reaches the backend whole")
	assert.Equal(t, []string{"node-1"}, sink.resourceValues("k8s.node.name"), "the agent marks the node the telemetry came through")

	agentFams := harness.MustScrape(t, agent.MetricsURL())
	up, found := agentFams.Sum("healthprobe_up", map[string]string{"probe_name": "node_disk"})
	assert.True(t, found && up == 1, "the agent exposes its node's disk probe:\n%s", agentFams.Series("healthprobe_up"))
	gwFams := harness.MustScrape(t, gateway.MetricsURL())
	llmUp, _ := gwFams.Sum("healthprobe_up", map[string]string{"probe_name": "llm_provider"})
	dbUp, dbFound := gwFams.Sum("healthprobe_up", map[string]string{"probe_name": "database"})
	assert.Equal(t, float64(1), llmUp, "the gateway probes the LLM provider:\n%s", gwFams.Series("healthprobe_up"))
	assert.True(t, dbFound && dbUp == 0, "the database probe fails (nothing listens) without making the gateway unready")

	agent.Stop(30 * time.Second)
	gateway.Stop(60 * time.Second)
}
