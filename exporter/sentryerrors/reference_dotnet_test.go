package sentryerrors

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/procode-ai/otelcol-procode/tests/harness"
)

// dotnetFrame is what Sentry groups a .NET frame on.
type dotnetFrame struct {
	Module, Function string
	InApp            bool
}

// dotnetException is what Sentry groups a .NET exception on, and where it sits in the
// tree of exceptions.
type dotnetException struct {
	Type      string
	Frames    []dotnetFrame // Sentry's order: the oldest call first
	Mechanism map[string]any
}

// TestGroupingMatchesSentryDotNet: no .NET runtime or NuGet here, so the references are
// sentry-dotnet's rules, read from its source, applied by hand to Exception.ToString()
// texts written as .NET's own StackTrace.ToString() and Exception.ToString() print them
// (testdata/dotnet: .NET 8 and 9, .NET Framework, an AggregateException from
// Task.WaitAll, an ExternalException's form). The expected fields are those the SDK sends
// with StackTraceMode.Original (with the default, Enhanced, the SDK's function carries the
// return type and parameter types, which Exception.ToString() does not print):
//
//   - exception type: Type.FullName; module: the assembly's name, which the text does not
//     hold (left out) (Sentry/Internal/MainExceptionProcessor.cs, BuildSentryException);
//   - chain: the raised exception is exception_id 0, then each inner exception in the order
//     of the walk, parent_id the exception that holds it, source "InnerException", or
//     "InnerExceptions[i]" under an AggregateException, which is_exception_group; listed in
//     reverse (MainExceptionProcessor.WalkExceptions, GetMechanism);
//   - frame module: the declaring type's FullName (nested types joined by '+', "(unknown)"
//     for a DynamicMethod), function: the method's name; an async or iterator state
//     machine's MoveNext becomes the method on the enclosing type, a lambda "<M>b__0_0"
//     "M { <lambda> }" (Sentry/Internal/DebugStackTrace.cs, TryCreateManagedFrame,
//     DemangleAsyncFunctionName, DemangleAnonymousFunction);
//   - in_app: false when the module starts with one of SentryOptions.GetDefaultInAppExclude()
//     (case-insensitive prefix: PrefixOrPatternMatcher), else true
//     (SentryStackFrame.ConfigureAppFrame).
//
// Where the text cannot tell (a nested type of a library, an explicit interface method,
// an async local function), the test names the known difference in not-app frames.
func TestGroupingMatchesSentryDotNet(t *testing.T) {
	app := func(module, function string) dotnetFrame { return dotnetFrame{module, function, true} }
	lib := func(module, function string) dotnetFrame { return dotnetFrame{module, function, false} }
	for _, tc := range []struct {
		file, typ string
		want      []dotnetException
	}{{
		file: "http_chain.txt", typ: "System.InvalidOperationException",
		want: []dotnetException{{
			Type: "System.Net.Sockets.SocketException",
			Frames: []dotnetFrame{
				lib("System.Net.Http.HttpConnectionPool", "ConnectToTcpHostAsync"),
				// The SDK: "System.Net.Sockets.Socket+AwaitableSocketAsyncEventArgs", function
				// "System.Threading.Tasks.Sources.IValueTaskSource.GetResult" (not app code).
				lib("System.Net.Sockets.Socket.AwaitableSocketAsyncEventArgs.System.Threading.Tasks.Sources.IValueTaskSource", "GetResult"),
				lib("System.Net.Sockets.Socket.AwaitableSocketAsyncEventArgs", "ThrowException"),
			},
			Mechanism: map[string]any{"type": "chained", "source": "InnerException", "exception_id": 2.0, "parent_id": 1.0},
		}, {
			Type: "System.Net.Http.HttpRequestException",
			Frames: []dotnetFrame{
				// PricingClient+<GetQuoteAsync>d__N.MoveNext, demangled
				app("Acme.Orders.Pricing.PricingClient", "GetQuoteAsync"),
				// The SDK: "System.Net.Http.HttpClient+<<SendAsync>g__Core|83_0>d", "MoveNext".
				lib("System.Net.Http.HttpClient", "<SendAsync>g__Core|83_0"),
				lib("System.Net.Http.HttpConnectionPool", "ConnectToTcpHostAsync"),
			},
			Mechanism: map[string]any{"type": "chained", "source": "InnerException", "exception_id": 1.0, "parent_id": 0.0},
		}, {
			Type: "System.InvalidOperationException",
			Frames: []dotnetFrame{
				app("(unknown)", "lambda_method12"),
				lib("Microsoft.AspNetCore.Http.RequestDelegateFactory", "ExecuteTaskResult"),
				app("Acme.Orders.Api.OrdersEndpoints+<>c", "Map { <lambda> }"),
				app("Acme.Orders.OrderService", "PlaceAsync"),
				lib("System.Linq.Enumerable.SelectListIterator`2", "MoveNext"),
				app("Acme.Orders.OrderService+<>c__DisplayClass4_0", "PlaceAsync { <lambda> }"),
				app("Acme.Orders.Pricing.PricingClient", "GetQuoteAsync"),
			},
			Mechanism: map[string]any{"type": "opentelemetry", "exception_id": 0.0},
		}},
	}, {
		file: "aggregate.txt", typ: "System.AggregateException",
		want: []dotnetException{{
			Type:      "Acme.Orders.StockException",
			Frames:    []dotnetFrame{app("Acme.Orders.Stock.StockClient", "ReserveAsync")},
			Mechanism: map[string]any{"type": "chained", "source": "InnerExceptions[1]", "exception_id": 3.0, "parent_id": 0.0},
		}, {
			Type:      "System.TimeoutException",
			Frames:    []dotnetFrame{app("Acme.Orders.Pricing.PricingClient", "WaitAsync")},
			Mechanism: map[string]any{"type": "chained", "source": "InnerException", "exception_id": 2.0, "parent_id": 1.0},
		}, {
			Type:      "Acme.Orders.QuoteException",
			Frames:    []dotnetFrame{app("Acme.Orders.Pricing.PricingClient", "GetQuoteAsync")},
			Mechanism: map[string]any{"type": "chained", "source": "InnerExceptions[0]", "exception_id": 1.0, "parent_id": 0.0},
		}, {
			Type: "System.AggregateException",
			Frames: []dotnetFrame{
				app("Acme.Orders.Batch.BatchRunner", "Run"),
				lib("System.Threading.Tasks.Task", "WaitAllCore"),
			},
			Mechanism: map[string]any{"type": "opentelemetry", "exception_id": 0.0, "is_exception_group": true},
		}},
	}, {
		// .NET Framework prints state machines and "where exception was thrown"; the inner
		// exception was never thrown, so it has no frames; the message has two lines.
		file: "framework.txt", typ: "System.ApplicationException",
		want: []dotnetException{{
			Type:      "System.FormatException",
			Mechanism: map[string]any{"type": "chained", "source": "InnerException", "exception_id": 1.0, "parent_id": 0.0},
		}, {
			Type: "System.ApplicationException",
			Frames: []dotnetFrame{
				app("Acme.Import.Program", "Main"),
				lib("System.Runtime.CompilerServices.TaskAwaiter", "ThrowForNonSuccess"),
				app("Acme.Import.Importer", "RunAsync"),
				app("Acme.Import.Order", ".ctor"),
				app("Acme.Import.CsvReader`1", "ReadAll"),
			},
			Mechanism: map[string]any{"type": "opentelemetry", "exception_id": 0.0},
		}},
	}, {
		// .NET 9 prints generic arguments and an iterator's "+MoveNext()"; a DbException
		// prints its HResult after the type.
		file: "net9.txt", typ: "Npgsql.PostgresException",
		want: []dotnetException{{
			Type: "Npgsql.PostgresException",
			Frames: []dotnetFrame{
				app("Program", "<Main>$"),
				app("Program", "<<Main>$>g__Validate|0_0"),
				lib("System.Linq.Enumerable", "ToList"),
				app("Acme.Import.CsvReader`1", "ReadAll"),
				app("Acme.Data.Repo`1", "Find"),
				lib("System.Collections.Generic.Dictionary`2", "get_Item"),
				lib("Npgsql.Internal.NpgsqlConnector", "ReadMessageLong"),
			},
			Mechanism: map[string]any{"type": "opentelemetry", "exception_id": 0.0},
		}},
	}} {
		t.Run(tc.file, func(t *testing.T) {
			text, err := os.ReadFile(filepath.Join("testdata", "dotnet", tc.file))
			require.NoError(t, err)
			res := testMapper(t, nil).mapTraces(agentTraceWithStack(t, "dotnet", tc.typ, "", string(text)))
			require.Len(t, res.events, 1)
			ev := decoded(t, res.events[0])
			assert.Equal(t, "csharp", ev["platform"])
			var got []dotnetException
			for _, x := range harness.SentryValues(ev, "exception") {
				xm := x.(map[string]any)
				assert.Nil(t, xm["module"], "the SDK's module is the assembly, which the text does not name")
				e := dotnetException{Type: xm["type"].(string), Mechanism: xm["mechanism"].(map[string]any)}
				if st, ok := xm["stacktrace"].(map[string]any); ok {
					for _, f := range st["frames"].([]any) {
						fm := f.(map[string]any)
						e.Frames = append(e.Frames, dotnetFrame{fm["module"].(string), fm["function"].(string), fm["in_app"].(bool)})
					}
				}
				got = append(got, e)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
