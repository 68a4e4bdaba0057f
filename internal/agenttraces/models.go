package agenttraces // import "github.com/procode-ai/otelcol-procode/internal/agenttraces"

// Model is one LLM the generated traces call: the provider as the OTel GenAI
// conventions name it, and the model name as an app would send it.
type Model struct {
	Provider  string
	Name      string
	Embedding bool
}

// Models are the 50 distinct models of the generated traces: mainstream models of the
// providers the price table covers, spelt the ways apps spell them (dated snapshots,
// Bedrock ids with region prefixes and version suffixes, "-latest" aliases), plus two
// that no price table knows.
var Models = []Model{
	{"openai", "gpt-4o", false},
	{"openai", "gpt-4o-mini", false},
	{"openai", "gpt-4o-2024-08-06", false},
	{"openai", "gpt-4.1", false},
	{"openai", "gpt-4.1-mini", false},
	{"openai", "gpt-4.1-nano", false},
	{"openai", "o3", false},
	{"openai", "o3-mini", false},
	{"openai", "o4-mini", false},
	{"openai", "gpt-5", false},
	{"openai", "gpt-5-mini", false},
	{"openai", "gpt-3.5-turbo", false},
	{"openai", "text-embedding-3-small", true},
	{"openai", "text-embedding-3-large", true},
	{"anthropic", "claude-sonnet-4-5", false},
	{"anthropic", "claude-sonnet-4-20250514", false},
	{"anthropic", "claude-3-5-sonnet-20241022", false},
	{"anthropic", "claude-3-5-haiku-20241022", false},
	{"anthropic", "claude-opus-4-1", false},
	{"anthropic", "claude-haiku-4-5", false},
	{"anthropic", "claude-3-opus-20240229", false},
	{"gcp.gemini", "gemini-2.5-pro", false},
	{"gcp.gemini", "gemini-2.5-flash", false},
	{"gcp.gemini", "gemini-2.5-flash-lite", false},
	{"gcp.gemini", "gemini-2.0-flash", false},
	{"gcp.gemini", "gemini-1.5-pro", false},
	{"aws.bedrock", "us.anthropic.claude-3-5-sonnet-20241022-v2:0", false},
	{"aws.bedrock", "anthropic.claude-3-haiku-20240307-v1:0", false},
	{"aws.bedrock", "amazon.nova-pro-v1:0", false},
	{"aws.bedrock", "amazon.nova-lite-v1:0", false},
	{"aws.bedrock", "meta.llama3-1-70b-instruct-v1:0", false},
	{"azure.ai.openai", "gpt-4o", false},
	{"azure.ai.openai", "gpt-4o-mini", false},
	{"mistral_ai", "mistral-large-latest", false},
	{"mistral_ai", "mistral-small-latest", false},
	{"mistral_ai", "codestral-latest", false},
	{"mistral_ai", "open-mistral-nemo", false},
	{"cohere", "command-r-plus", false},
	{"cohere", "command-r", false},
	{"cohere", "embed-english-v3.0", true},
	{"deepseek", "deepseek-chat", false},
	{"deepseek", "deepseek-reasoner", false},
	{"x_ai", "grok-3", false},
	{"x_ai", "grok-3-mini", false},
	{"x_ai", "grok-4", false},
	{"groq", "llama-3.3-70b-versatile", false},
	{"groq", "llama-3.1-8b-instant", false},
	{"openai", "openai/gpt-4o", false},
	{"acme", "acme-internal-llm-v2", false},
	{"acme", "my-finetune-7b", false},
}
