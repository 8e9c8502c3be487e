package data

import (
	"bytes"
	_ "embed"
	"fmt"
)

//go:embed builtin.jsonl
var builtinJSONL []byte

// BuiltinName is the spec and name of the built-in prompt set.
const BuiltinName = "builtin"

// Builtin returns the built-in English–Hindi prompt set: 132 pairs over
// eleven subjects (science, history, geography, math, literature, everyday,
// health, law, economics, technology, culture), from two words to about
// sixty, some with numbers and line breaks. Languages "en" and "hi".
func Builtin() *Parallel {
	p, err := ReadJSONL(bytes.NewReader(builtinJSONL), nil)
	if err != nil {
		panic(fmt.Sprintf("data: the embedded built-in set is invalid: %v", err)) // Caught by the package tests.
	}
	p.Name = BuiltinName
	return p
}
