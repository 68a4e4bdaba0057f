package llmcost // import "github.com/procode-ai/otelcol-procode/processor/llmcost"

import (
	"encoding/json"
	"strings"
)

// Some sources put part of the usage only in a JSON attribute: the Vercel AI SDK the
// 1-hour cache writes and the service tier in ai.response.providerMetadata, Logfire
// (Python) the provider's usage object in gen_ai.usage.raw, OpenInference the
// requested tier in llm.invocation_parameters. They are parsed only when the text can
// hold what is missing, and only up to maxJSONAttr bytes: anything else, or text that
// is not JSON, adds nothing (the plain attributes still price the call).

const maxJSONAttr = 64 << 10

// anthropicUsage is the part of Anthropic's usage object the processor reads.
type anthropicUsage struct {
	CacheCreation *struct {
		Ephemeral5m *int64 `json:"ephemeral_5m_input_tokens"`
		Ephemeral1h *int64 `json:"ephemeral_1h_input_tokens"`
	} `json:"cache_creation"`
	CacheCreationInputTokens *int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int64 `json:"cache_read_input_tokens"`
	ServiceTier              string `json:"service_tier"`
}

// readProviderMetadata reads the Vercel AI SDK's provider metadata.
func readProviderMetadata(s string, c *tokenCounts) {
	if len(s) > maxJSONAttr || !(strings.Contains(s, "ephemeral_1h") || strings.Contains(s, "erviceTier") ||
		strings.Contains(s, "service_tier")) {
		return
	}
	var md struct {
		Anthropic *struct {
			Usage *anthropicUsage `json:"usage"`
		} `json:"anthropic"`
		OpenAI *struct {
			ServiceTier string `json:"serviceTier"`
		} `json:"openai"`
		Google *struct {
			ServiceTier string `json:"serviceTier"`
		} `json:"google"`
	}
	if json.Unmarshal([]byte(s), &md) != nil {
		return
	}
	switch {
	case md.Anthropic != nil && md.Anthropic.Usage != nil:
		u := md.Anthropic.Usage
		c.tier = u.ServiceTier
		if cc := u.CacheCreation; cc != nil && cc.Ephemeral1h != nil && plausible(*cc.Ephemeral1h) && c.hasCacheWrite {
			c.cacheWrite1h, c.has1h = *cc.Ephemeral1h, true
		}
	case md.OpenAI != nil:
		c.tier = md.OpenAI.ServiceTier
	case md.Google != nil:
		c.tier = md.Google.ServiceTier
	}
}

// readRawUsage reads Logfire's gen_ai.usage.raw: Anthropic's or OpenAI's usage object
// as the provider returned it, when the plain attributes leave the cache out.
func readRawUsage(s string, c *tokenCounts) {
	if len(s) > maxJSONAttr || !strings.Contains(s, "cache") {
		return
	}
	var raw struct {
		anthropicUsage
		PromptDetails *struct {
			CachedTokens *int64 `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
		InputDetails *struct {
			CachedTokens *int64 `json:"cached_tokens"`
		} `json:"input_tokens_details"`
	}
	if json.Unmarshal([]byte(s), &raw) != nil {
		return
	}
	set := func(dst *int64, has *bool, v *int64) {
		if v != nil && plausible(*v) {
			*dst, *has = *v, true
		}
	}
	set(&c.cacheRead, &c.hasCacheRead, raw.CacheReadInputTokens)
	set(&c.cacheWrite, &c.hasCacheWrite, raw.CacheCreationInputTokens)
	if raw.PromptDetails != nil {
		set(&c.cacheRead, &c.hasCacheRead, raw.PromptDetails.CachedTokens)
	}
	if raw.InputDetails != nil {
		set(&c.cacheRead, &c.hasCacheRead, raw.InputDetails.CachedTokens)
	}
	if cc := raw.CacheCreation; cc != nil && cc.Ephemeral1h != nil && plausible(*cc.Ephemeral1h) {
		c.cacheWrite1h, c.has1h = *cc.Ephemeral1h, true
	}
	c.tier = raw.ServiceTier
}

func plausible(n int64) bool { return n >= 0 && n <= maxTokens }

// requestedTier reads service_tier from OpenInference's invocation parameters.
func requestedTier(s string) string {
	if len(s) > maxJSONAttr || !strings.Contains(s, "service_tier") {
		return ""
	}
	var p struct {
		ServiceTier string `json:"service_tier"`
	}
	if json.Unmarshal([]byte(s), &p) != nil {
		return ""
	}
	return p.ServiceTier
}
