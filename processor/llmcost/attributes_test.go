package llmcost

import "testing"

func TestLookupKeyCoversEveryName(t *testing.T) {
	for k := key(0); k < numKeys; k++ {
		if keyNames[k] == "" {
			t.Fatalf("key %d has no name", k)
		}
		got, ok := lookupKey(keyNames[k])
		if !ok || got != k {
			t.Fatalf("lookupKey(%q) = %d, %v; want %d", keyNames[k], got, ok, k)
		}
	}
	if _, ok := lookupKey("gen_ai.usage.input_tokenz"); ok {
		t.Fatal("unknown name found")
	}
}
