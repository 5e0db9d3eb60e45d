package abi

import (
	"testing"

	"github.com/edgewise/edgewise/engine"
	"github.com/vmihailenco/msgpack/v5"
)

// TestReportWireShape pins the report's wire form, which the collector
// decodes: value is present even when 0, and a null report
// carries a reason.
func TestReportWireShape(t *testing.T) {
	zero := 0
	raw := mpAppendReportResult([]byte(resultPrefix), &ReportResult{Report: &engine.Report{Ruleset: "r", Epoch: 2918, Mechanism: "krr", Value: &zero, Epsilon: 2}})
	var got map[string]map[string]map[string]any
	if err := msgpack.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	r := got["result"]["report"]
	if len(r) != 5 || r["value"] == nil || r["mechanism"] != "krr" || r["ruleset"] != "r" || r["epsilon"] != 2.0 {
		t.Errorf("krr report on the wire: %v", r)
	}
	raw = mpAppendReportResult([]byte(resultPrefix), &ReportResult{Reason: "why"})
	var null map[string]map[string]any
	if err := msgpack.Unmarshal(raw, &null); err != nil {
		t.Fatal(err)
	}
	if v, ok := null["result"]["report"]; !ok || v != nil || null["result"]["reason"] != "why" {
		t.Errorf("null report on the wire: %v", null)
	}
}
