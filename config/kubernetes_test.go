package config_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8syaml "sigs.k8s.io/yaml"
)

const (
	kubernetesDir       = "kubernetes"
	kubernetesNamespace = "otelcol-procode"
)

// kubeManifests is every object in the manifests under config/kubernetes/, decoded
// strictly into the Kubernetes API types (an unknown or misspelt field fails, as
// `kubectl apply --validate=strict` would).
type kubeManifests struct {
	files       map[string][]any // file -> objects
	namespaces  []*corev1.Namespace
	configMaps  map[string]*corev1.ConfigMap
	secrets     map[string]*corev1.Secret
	services    []*corev1.Service
	deployments []*appsv1.Deployment
	daemonSets  []*appsv1.DaemonSet
	hpas        []*autoscalingv2.HorizontalPodAutoscaler
	pdbs        []*policyv1.PodDisruptionBudget
}

var yamlDocSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

func loadKubeManifests(t *testing.T) *kubeManifests {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(kubernetesDir, "*.yaml"))
	require.NoError(t, err)
	m := &kubeManifests{files: map[string][]any{}, configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for i, doc := range yamlDocSeparator.Split(string(b), -1) {
			if strings.TrimSpace(stripYAMLComments(doc)) == "" {
				continue
			}
			obj, err := decodeKubeObject([]byte(doc))
			require.NoError(t, err, "%s document %d", f, i+1)
			m.files[filepath.Base(f)] = append(m.files[filepath.Base(f)], obj)
			switch o := obj.(type) {
			case *corev1.Namespace:
				m.namespaces = append(m.namespaces, o)
			case *corev1.ConfigMap:
				m.configMaps[o.Name] = o
			case *corev1.Secret:
				m.secrets[o.Name] = o
			case *corev1.Service:
				m.services = append(m.services, o)
			case *appsv1.Deployment:
				m.deployments = append(m.deployments, o)
			case *appsv1.DaemonSet:
				m.daemonSets = append(m.daemonSets, o)
			case *autoscalingv2.HorizontalPodAutoscaler:
				m.hpas = append(m.hpas, o)
			case *policyv1.PodDisruptionBudget:
				m.pdbs = append(m.pdbs, o)
			}
		}
	}
	require.NotEmpty(t, m.files, "no manifests under config/kubernetes")
	return m
}

func stripYAMLComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// decodeKubeObject decodes one manifest strictly into the API type its apiVersion and
// kind name.
func decodeKubeObject(doc []byte) (any, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := k8syaml.Unmarshal(doc, &head); err != nil {
		return nil, err
	}
	var obj any
	switch head.APIVersion + "/" + head.Kind {
	case "v1/Namespace":
		obj = &corev1.Namespace{}
	case "v1/ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1/Secret":
		obj = &corev1.Secret{}
	case "v1/Service":
		obj = &corev1.Service{}
	case "apps/v1/Deployment":
		obj = &appsv1.Deployment{}
	case "apps/v1/DaemonSet":
		obj = &appsv1.DaemonSet{}
	case "autoscaling/v2/HorizontalPodAutoscaler":
		obj = &autoscalingv2.HorizontalPodAutoscaler{}
	case "policy/v1/PodDisruptionBudget":
		obj = &policyv1.PodDisruptionBudget{}
	default:
		return nil, fmt.Errorf("apiVersion %q kind %q: not a kind this test knows (add it to decodeKubeObject)", head.APIVersion, head.Kind)
	}
	if err := k8syaml.UnmarshalStrict(doc, obj); err != nil {
		return nil, fmt.Errorf("%s %s: %w", head.APIVersion, head.Kind, err)
	}
	return obj, nil
}

// kubeWorkload is a Deployment or DaemonSet, reduced to what the checks need.
type kubeWorkload struct {
	kind, name string
	selector   map[string]string
	pod        corev1.PodTemplateSpec
}

func (m *kubeManifests) workloads() []kubeWorkload {
	var out []kubeWorkload
	for _, d := range m.deployments {
		out = append(out, kubeWorkload{"Deployment", d.Name, d.Spec.Selector.MatchLabels, d.Spec.Template})
	}
	for _, d := range m.daemonSets {
		out = append(out, kubeWorkload{"DaemonSet", d.Name, d.Spec.Selector.MatchLabels, d.Spec.Template})
	}
	return out
}

func envValue(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

// TestKubernetesManifestsDecode decodes every manifest strictly into the real API types
// and checks names, namespaces and the kustomization's resource list.
func TestKubernetesManifestsDecode(t *testing.T) {
	m := loadKubeManifests(t)
	require.Len(t, m.namespaces, 1)
	assert.Equal(t, kubernetesNamespace, m.namespaces[0].Name)

	for file, objs := range m.files {
		for _, obj := range objs {
			meta := objectMeta(obj)
			assert.NotEmpty(t, meta.Name, "%s: an object without a name", file)
			if _, isNS := obj.(*corev1.Namespace); !isNS {
				assert.Equal(t, kubernetesNamespace, meta.Namespace, "%s: %s must be in namespace %s", file, meta.Name, kubernetesNamespace)
			}
		}
	}

	// kubectl apply -k applies every manifest except the example Secret.
	b, err := os.ReadFile(filepath.Join(kubernetesDir, "kustomization.yaml"))
	require.NoError(t, err)
	var kust struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Resources  []string `yaml:"resources"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&kust))
	assert.Equal(t, "Kustomization", kust.Kind)
	var want []string
	for f := range m.files {
		if f != "secret.example.yaml" {
			want = append(want, f)
		}
	}
	sort.Strings(want)
	got := append([]string(nil), kust.Resources...)
	sort.Strings(got)
	assert.Equal(t, want, got, "kustomization.yaml must list every manifest but the example Secret")
}

func objectMeta(obj any) struct{ Name, Namespace string } {
	var name, ns string
	switch o := obj.(type) {
	case *corev1.Namespace:
		name, ns = o.Name, o.Namespace
	case *corev1.ConfigMap:
		name, ns = o.Name, o.Namespace
	case *corev1.Secret:
		name, ns = o.Name, o.Namespace
	case *corev1.Service:
		name, ns = o.Name, o.Namespace
	case *appsv1.Deployment:
		name, ns = o.Name, o.Namespace
	case *appsv1.DaemonSet:
		name, ns = o.Name, o.Namespace
	case *autoscalingv2.HorizontalPodAutoscaler:
		name, ns = o.Name, o.Namespace
	case *policyv1.PodDisruptionBudget:
		name, ns = o.Name, o.Namespace
	}
	return struct{ Name, Namespace string }{name, ns}
}

// containerPortNumber resolves a probe or Service target port (a name or a number) on c.
func containerPortNumber(c corev1.Container, p intstr.IntOrString) (int32, bool) {
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

func mib(t *testing.T, what, v string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(v, 10, 64)
	require.NoError(t, err, "%s=%q is not a whole number of MiB", what, v)
	return n
}

// TestKubernetesWorkloads checks each collector container: liveness on /livez and
// readiness on /ready at the port the readiness extension listens on; memory limits
// above the memory_limiter's limit; listeners on all interfaces; its config files come
// from a mounted ConfigMap key or from the image; its secrets from the Secret.
func TestKubernetesWorkloads(t *testing.T) {
	m := loadKubeManifests(t)
	workloads := m.workloads()
	kinds := map[string]bool{}
	for _, w := range workloads {
		kinds[w.kind] = true
	}
	require.True(t, kinds["Deployment"] && kinds["DaemonSet"], "a gateway Deployment and an agent DaemonSet")
	exampleSecret := m.secrets["otelcol-procode-secrets"]
	require.NotNil(t, exampleSecret, "secret.example.yaml defines otelcol-procode-secrets")
	imageFiles := dockerfileConfigCopies(t)

	for _, w := range workloads {
		t.Run(w.kind+"/"+w.name, func(t *testing.T) {
			assert.True(t, labels.SelectorFromSet(w.selector).Matches(labels.Set(w.pod.Labels)), "the selector must match the pod labels")
			require.Len(t, w.pod.Spec.Containers, 1)
			c := w.pod.Spec.Containers[0]

			// Probes.
			readiness, ok := envValue(c, "READINESS_ENDPOINT")
			require.True(t, ok, "READINESS_ENDPOINT must be set: the default is localhost, which the kubelet cannot reach")
			host, portStr, err := net.SplitHostPort(readiness)
			require.NoError(t, err)
			assert.Equal(t, "0.0.0.0", host, "the readiness extension must listen on all interfaces for the kubelet")
			readinessPort, _ := strconv.Atoi(portStr)
			for name, probe := range map[string]*corev1.Probe{"/livez": c.LivenessProbe, "/ready": c.ReadinessProbe} {
				require.NotNil(t, probe, "probe %s", name)
				require.NotNil(t, probe.HTTPGet, "probe %s must be an HTTP GET", name)
				assert.Equal(t, name, probe.HTTPGet.Path)
				port, ok := containerPortNumber(c, probe.HTTPGet.Port)
				require.True(t, ok, "probe %s port %s is not a container port", name, probe.HTTPGet.Port.String())
				assert.Equal(t, int32(readinessPort), port, "probe %s must hit the readiness extension (%s)", name, readiness)
			}

			// Memory: the container's limit above the memory_limiter's, the Go soft limit
			// between them, requests within limits.
			limit := c.Resources.Limits.Memory()
			require.False(t, limit.IsZero(), "a memory limit is required")
			limitMiB := limit.Value() / (1 << 20)
			memLimit, ok := envValue(c, "MEMORY_LIMIT_MIB")
			require.True(t, ok, "MEMORY_LIMIT_MIB must be set to fit the container (the default is 512)")
			spike, ok := envValue(c, "MEMORY_SPIKE_LIMIT_MIB")
			require.True(t, ok)
			assert.Less(t, mib(t, "MEMORY_LIMIT_MIB", memLimit), limitMiB, "MEMORY_LIMIT_MIB must be below the container's memory limit %s", limit)
			assert.Less(t, mib(t, "MEMORY_SPIKE_LIMIT_MIB", spike), mib(t, "MEMORY_LIMIT_MIB", memLimit))
			if goLimit, ok := envValue(c, "GOMEMLIMIT"); ok {
				q, err := resource.ParseQuantity(strings.TrimSuffix(goLimit, "B"))
				require.NoError(t, err, "GOMEMLIMIT %q", goLimit)
				assert.Less(t, q.Value(), limit.Value(), "GOMEMLIMIT must be below the container limit")
				assert.GreaterOrEqual(t, q.Value()/(1<<20), mib(t, "MEMORY_LIMIT_MIB", memLimit), "GOMEMLIMIT below MEMORY_LIMIT_MIB makes the Go runtime collect before memory_limiter acts")
			}
			if req := c.Resources.Requests.Memory(); !req.IsZero() {
				assert.LessOrEqual(t, req.Cmp(*limit), 0, "memory request above the limit")
			}
			assert.False(t, c.Resources.Requests.Cpu().IsZero(), "a CPU request (the HPA scales on it)")

			// Listeners.
			for _, k := range []string{"OTLP_GRPC_ENDPOINT", "OTLP_HTTP_ENDPOINT", "PROMETHEUS_ENDPOINT", "TELEMETRY_HOST"} {
				v, _ := envValue(c, k)
				assert.True(t, strings.HasPrefix(v, "0.0.0.0"), "%s=%q must bind all interfaces", k, v)
			}

			// Config files: each --config is a key of the ConfigMap mounted at its folder,
			// or a file the Dockerfile copies into the image.
			mounts := map[string]string{} // mount path -> ConfigMap name
			for _, vm := range c.VolumeMounts {
				for _, v := range w.pod.Spec.Volumes {
					if v.Name == vm.Name && v.ConfigMap != nil {
						mounts[vm.MountPath] = v.ConfigMap.Name
					}
				}
			}
			configs := 0
			for _, arg := range c.Args {
				path, ok := strings.CutPrefix(arg, "--config=")
				if !ok {
					continue
				}
				configs++
				if repoFile, inImage := imageFiles[path]; inImage {
					_, err := os.Stat(filepath.Join("..", repoFile))
					assert.NoError(t, err, "%s comes from the image (%s)", path, repoFile)
					continue
				}
				cmName, mounted := mounts[filepath.Dir(path)]
				require.True(t, mounted, "%s is neither in a mounted ConfigMap nor copied into the image by the Dockerfile", path)
				cm := m.configMaps[cmName]
				require.NotNil(t, cm, "ConfigMap %s is not defined", cmName)
				assert.Contains(t, cm.Data, filepath.Base(path), "ConfigMap %s has no key %s", cmName, filepath.Base(path))
			}
			assert.Positive(t, configs, "the container must run a --config")

			// Secrets: each reference names a key the example Secret documents.
			for _, e := range c.Env {
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					continue
				}
				ref := e.ValueFrom.SecretKeyRef
				assert.Equal(t, exampleSecret.Name, ref.Name)
				assert.Contains(t, exampleSecret.StringData, ref.Key, "secret.example.yaml must document key %s", ref.Key)
			}
		})
	}
}

// dockerfileConfigCopies maps paths in the image to the repository files the Dockerfile
// copies there.
func dockerfileConfigCopies(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	require.NoError(t, err)
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^COPY (config/\S*) (/etc/\S+)$`).FindAllStringSubmatch(string(b), -1) {
		src, dst := m[1], m[2]
		if strings.HasSuffix(src, "/") {
			entries, err := os.ReadDir(filepath.Join("..", src))
			require.NoError(t, err)
			for _, e := range entries {
				out[filepath.Join(dst, e.Name())] = filepath.Join(src, e.Name())
			}
			continue
		}
		out[dst] = src
	}
	require.NotEmpty(t, out, "the Dockerfile copies no configuration into the image")
	return out
}

// TestKubernetesTopology checks how the pieces connect: Services select pods and target
// their ports; the headless Service the agents resolve exists and is headless; the
// agents route traces by trace ID; the HPA and the PodDisruptionBudget act on the
// gateway and leave a replica up.
func TestKubernetesTopology(t *testing.T) {
	m := loadKubeManifests(t)
	podsOf := func(sel map[string]string) []kubeWorkload {
		var out []kubeWorkload
		for _, w := range m.workloads() {
			if len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(w.pod.Labels)) {
				out = append(out, w)
			}
		}
		return out
	}
	services := map[string]*corev1.Service{}
	for _, s := range m.services {
		services[s.Name] = s
		targets := podsOf(s.Spec.Selector)
		require.Len(t, targets, 1, "Service %s must select the pods of one workload", s.Name)
		for _, p := range s.Spec.Ports {
			_, ok := containerPortNumber(targets[0].pod.Spec.Containers[0], p.TargetPort)
			assert.True(t, ok, "Service %s port %s targets %s, not a port of %s", s.Name, p.Name, p.TargetPort.String(), targets[0].name)
		}
	}

	require.Len(t, m.daemonSets, 1)
	require.Len(t, m.deployments, 1)
	agent := m.daemonSets[0].Spec.Template.Spec.Containers[0]
	gateway := m.deployments[0]

	// The agent reaches the gateway through the headless Service (DNS, one record per
	// ready pod) for traces and metrics, and through the ClusterIP Service for logs.
	headlessHost, _ := envValue(agent, "GATEWAY_HEADLESS_SERVICE")
	name, ok := strings.CutSuffix(headlessHost, "."+kubernetesNamespace+".svc.cluster.local")
	require.True(t, ok, "GATEWAY_HEADLESS_SERVICE %q must be a Service in %s", headlessHost, kubernetesNamespace)
	headless := services[name]
	require.NotNil(t, headless, "Service %s is not defined", name)
	assert.Equal(t, corev1.ClusterIPNone, headless.Spec.ClusterIP, "Service %s must be headless", name)
	assert.Equal(t, gateway.Name, podsOf(headless.Spec.Selector)[0].name)
	assert.False(t, headless.Spec.PublishNotReadyAddresses, "a gateway that is not ready must not get traces")
	gwEndpoint, _ := envValue(agent, "GATEWAY_ENDPOINT")
	svcHost, port, err := net.SplitHostPort(gwEndpoint)
	require.NoError(t, err)
	name, _ = strings.CutSuffix(svcHost, "."+kubernetesNamespace+".svc.cluster.local")
	require.NotNil(t, services[name], "GATEWAY_ENDPOINT names Service %s, which is not defined", name)
	assert.Equal(t, "4317", port)

	// The agent's collector config routes spans by trace ID through the headless Service.
	agentCM := m.configMaps["otelcol-procode-agent"]
	require.NotNil(t, agentCM)
	var agentCfg struct {
		Exporters map[string]struct {
			RoutingKey string `yaml:"routing_key"`
			Resolver   struct {
				DNS struct {
					Hostname string `yaml:"hostname"`
				} `yaml:"dns"`
			} `yaml:"resolver"`
		} `yaml:"exporters"`
		Service struct {
			Pipelines map[string]struct {
				Exporters []string `yaml:"exporters"`
			} `yaml:"pipelines"`
		} `yaml:"service"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(agentCM.Data["agent.yaml"]), &agentCfg))
	traceExporters := agentCfg.Service.Pipelines["traces"].Exporters
	require.Len(t, traceExporters, 1)
	lb := agentCfg.Exporters[traceExporters[0]]
	assert.Equal(t, "traceID", lb.RoutingKey, "the agent must route spans by trace ID")
	assert.Equal(t, "${env:GATEWAY_HEADLESS_SERVICE}", lb.Resolver.DNS.Hostname)

	// Autoscaling and disruptions.
	require.Len(t, m.hpas, 1)
	hpa := m.hpas[0]
	assert.Equal(t, "Deployment", hpa.Spec.ScaleTargetRef.Kind)
	assert.Equal(t, gateway.Name, hpa.Spec.ScaleTargetRef.Name)
	require.NotNil(t, hpa.Spec.MinReplicas)
	assert.GreaterOrEqual(t, *hpa.Spec.MinReplicas, int32(2), "at least two gateways, so one can be disrupted")
	assert.Greater(t, hpa.Spec.MaxReplicas, *hpa.Spec.MinReplicas)
	require.Len(t, m.pdbs, 1)
	pdb := m.pdbs[0]
	require.NotNil(t, pdb.Spec.Selector)
	assert.Equal(t, gateway.Name, podsOf(pdb.Spec.Selector.MatchLabels)[0].name, "the PodDisruptionBudget must cover the gateway")
	require.NotNil(t, pdb.Spec.MinAvailable)
	assert.Less(t, pdb.Spec.MinAvailable.IntValue(), int(*hpa.Spec.MinReplicas), "minAvailable must leave room for a voluntary disruption")
}

// TestKubernetesExampleSecretIsPlaceholder keeps real-looking secrets out of the example.
func TestKubernetesExampleSecretIsPlaceholder(t *testing.T) {
	m := loadKubeManifests(t)
	s := m.secrets["otelcol-procode-secrets"]
	require.NotNil(t, s)
	require.NotEmpty(t, s.StringData)
	for k, v := range s.StringData {
		assert.Contains(t, v, "REPLACE-ME", "secret.example.yaml %s must be a clearly marked placeholder", k)
	}
	assert.Empty(t, s.Data, "placeholders go in stringData, readable as such")
	b, err := os.ReadFile(filepath.Join(kubernetesDir, "secret.example.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "EXAMPLE ONLY")
}
