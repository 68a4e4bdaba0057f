package sentryerrors // import "github.com/procode-ai/otelcol-procode/exporter/sentryerrors"

import (
	"strings"
	"unicode"

	"github.com/procode-ai/otelcol-procode/internal/safetext"
)

// genAIContentKeys are attributes that carry prompts, completions, tool arguments and
// results (OTel GenAI conventions, their deprecated forms, OpenLLMetry, OpenInference,
// Vercel AI SDK). They are left out unless include_genai_content is set.
var genAIContentKeys = map[string]struct{}{
	"gen_ai.input.messages":      {},
	"gen_ai.output.messages":     {},
	"gen_ai.system_instructions": {},
	"gen_ai.prompt":              {},
	"gen_ai.completion":          {},
	"gen_ai.tool.call.arguments": {},
	"gen_ai.tool.call.result":    {},
	"gen_ai.tool.definitions":    {},
	"gen_ai.request.messages":    {},
	"gen_ai.response.messages":   {},
	"llm.prompts":                {},
	"llm.completions":            {},
	"input.value":                {},
	"output.value":               {},
	"ai.prompt":                  {},
	"ai.prompt.messages":         {},
	"ai.response.text":           {},
	"ai.response.object":         {},
	"ai.response.toolCalls":      {},
	"traceloop.entity.input":     {},
	"traceloop.entity.output":    {},
}

var genAIContentPrefixes = []string{
	"gen_ai.prompt.", "gen_ai.completion.", "llm.input_messages", "llm.output_messages",
	"llm.prompts.", "llm.completions.", "ai.prompt.",
}

// genAIContentEvents are span event / log event names whose body and attributes are
// message content.
var genAIContentEvents = map[string]struct{}{
	"gen_ai.user.message":                       {},
	"gen_ai.system.message":                     {},
	"gen_ai.assistant.message":                  {},
	"gen_ai.tool.message":                       {},
	"gen_ai.choice":                             {},
	"gen_ai.content.prompt":                     {},
	"gen_ai.content.completion":                 {},
	"gen_ai.client.inference.operation.details": {},
}

func isGenAIContentKey(k string) bool {
	if _, ok := genAIContentKeys[k]; ok {
		return true
	}
	if !strings.HasPrefix(k, "gen_ai.") && !strings.HasPrefix(k, "llm.") && !strings.HasPrefix(k, "ai.") {
		return false
	}
	for _, p := range genAIContentPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string { return safetext.Truncate(s, n) }

// tagValue makes s a valid Sentry tag value: one line, at most 200 characters.
func tagValue(s string) string {
	if strings.ContainsAny(s, "\n\r\t") {
		s = strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return ' '
			}
			return r
		}, s)
	}
	return truncate(strings.TrimSpace(s), 200)
}
