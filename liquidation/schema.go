package liquidation

import _ "embed"

//go:embed schema/request.schema.json
var requestSchema []byte

//go:embed schema/result.schema.json
var resultSchema []byte

// RequestSchema returns the JSON Schema (draft 2020-12) of a request line.
func RequestSchema() []byte { return append([]byte(nil), requestSchema...) }

// ResultSchema returns the JSON Schema (draft 2020-12) of an output line of
// `observatory liquidate`.
func ResultSchema() []byte { return append([]byte(nil), resultSchema...) }
