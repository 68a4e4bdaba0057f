package sentryevent

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFieldNamesNeedNoEscaping holds jsonWriter.key to its promise: every field name the
// encoder writes without escaping is a string literal of plain characters (or a
// parameter forwarded by another jsonWriter method, or one of CostParts).
func TestFieldNamesNeedNoEscaping(t *testing.T) {
	plain := regexp.MustCompile(`^[A-Za-z0-9_.]+$`)
	writers := map[string]bool{"key": true, "optStr": true, "optInt": true, "bool": true, "optNum": true, "optFloat": true}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	calls := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			forwarding := fn.Recv != nil && writers[fn.Name.Name] // e.g. optStr calling key(k)
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) == 0 {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || !writers[sel.Sel.Name] {
					return true
				}
				calls++
				pos := fset.Position(call.Pos())
				switch arg := call.Args[0].(type) {
				case *ast.BasicLit:
					v, err := strconv.Unquote(arg.Value)
					require.NoError(t, err)
					assert.Regexp(t, plain, v, "%s: field name %q needs escaping; write it with str", pos, v)
				case *ast.Ident:
					ok := forwarding || arg.Name == "p" && fn.Name.Name == "appendJSON"
					assert.True(t, ok, "%s: %s(%s): field names must be literals", pos, sel.Sel.Name, arg.Name)
				default:
					t.Errorf("%s: %s with a computed field name; write it with str", pos, sel.Sel.Name)
				}
				return true
			})
		}
	}
	assert.Greater(t, calls, 50, "the scan found the encoder's calls")
	for _, p := range CostParts {
		assert.Regexp(t, plain, p)
	}
}
