package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestOriginOnlyOpenedReadOnly makes the rule "the module never writes
// its origin" a property of the source: the module's code opens files
// for writing in exactly one place, the snapshot in writeAndVerify, and
// the origin only through openOrigin (os.Open, read-only).
func TestOriginOnlyOpenedReadOnly(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var writers []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			fn, ok := n.(*ast.FuncDecl)
			if !ok {
				return true
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "os" {
					switch sel.Sel.Name {
					case "OpenFile", "Create", "WriteFile", "Truncate":
						arg := "?"
						if len(call.Args) > 0 {
							arg = exprString(call.Args[0])
						}
						writers = append(writers, fn.Name.Name+":"+sel.Sel.Name+"("+arg+")")
					}
				}
				return true
			})
			return false
		})
	}
	if len(writers) != 1 || writers[0] != "writeAndVerify:OpenFile(snapLV.Path)" {
		t.Errorf("the module opens for writing: %q; want only the snapshot in writeAndVerify", writers)
	}
}

func exprString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.SelectorExpr:
		return exprString(x.X) + "." + x.Sel.Name
	case *ast.Ident:
		return x.Name
	}
	return "?"
}
