// Package liquidation is the Observatorio's embedded liquidation core: it recomputes
// municipal tax liquidations (impuesto predial unificado, industria y comercio — ICA —
// and its retención — ReteICA), late-payment interest (ET arts. 634-635), late-filing
// sanctions (ET arts. 639-641) and art. 577 rounding from dated rules with legal
// citations, explains every figure line by line, and classifies published liquidations
// as match / rounding / discrepancy / unverifiable.
//
// Rules are data: YAML files embedded from rules/ (national rules plus one file per
// demo municipality keyed by DIVIPOLA code). LoadRules merges a user's own files over
// the embedded set. All money is github.com/shopspring/decimal; no float is used for
// amounts, rates or percentages.
//
// A *Rules value is immutable after loading and safe for concurrent use by any number
// of goroutines (Liquidate, Verify, Calendar).
package liquidation
