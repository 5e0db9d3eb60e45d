package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/engine/buildtime"
	"github.com/edgewise/edgewise/ruleset"
)

// maxPlaygroundBody bounds the YAML the playground endpoints read. The
// example is about 25 KB; a ruleset ten times that is not being edited by
// hand in a textarea.
const maxPlaygroundBody = 256 << 10

// playgroundName is the file name playground diagnostics refer to.
const playgroundName = "playground.yaml"

// lintResponse is the body of POST /api/playground/lint, and of a 422 from
// POST /api/playground/compile.
type lintResponse struct {
	// OK is true when nothing is an error: compile would sign it.
	OK          bool         `json:"ok"`
	Errors      int          `json:"errors"`
	Warnings    int          `json:"warnings"`
	Diagnostics []diagnostic `json:"diagnostics"`
	// Catalogue is the display catalogue of the ruleset, when OK: what the
	// page needs to draw products the edit added.
	Catalogue *display `json:"catalogue,omitempty"`
}

// diagnostic is ruleset.Diagnostic as JSON. Line and col are 1-based; both
// are 0 for a problem with no place in the file.
type diagnostic struct {
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Severity string `json:"severity"`
	Category string `json:"category"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
	// Text is the diagnostic as edgewise lint prints it, with a caret.
	Text string `json:"text"`
}

// readPlayground reads the YAML body, answering 413 itself when it is too
// large.
func readPlayground(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	src, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPlaygroundBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSONStatus(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "the ruleset is larger than 256 KiB"})
			return nil, false
		}
		writeJSONStatus(w, http.StatusBadRequest, map[string]string{"error": "unreadable body"})
		return nil, false
	}
	return src, true
}

// lint checks src as edgewise build does.
func lint(src []byte) (*engine.Ruleset, lintResponse) {
	rs, diags, errs := compileRuleset(playgroundName, src)
	res := lintResponse{OK: errs == 0, Errors: errs, Warnings: max(len(diags)-errs, 0), Diagnostics: make([]diagnostic, len(diags))}
	for i, d := range diags {
		res.Diagnostics[i] = diagnostic{Line: d.Line, Col: d.Column, Severity: d.Severity, Category: d.Category,
			Message: d.Message, Hint: d.Hint, Text: ruleset.Format(d)}
	}
	if rs != nil {
		cat := displayOf(rs)
		res.Catalogue = &cat
	}
	return rs, res
}

// servePlaygroundLint answers POST /api/playground/lint: the YAML in the
// body, checked; 200 with the diagnostics whatever they are. Nothing is kept.
func (s *server) servePlaygroundLint(w http.ResponseWriter, r *http.Request) {
	src, ok := readPlayground(w, r)
	if !ok {
		return
	}
	_, res := lint(src)
	writeJSONStatus(w, http.StatusOK, res)
}

// servePlaygroundCompile answers POST /api/playground/compile: the YAML in
// the body, checked and, when nothing is an error, compiled and signed with
// the demo's key, as application/octet-stream; otherwise 422 with the
// diagnostics. Nothing is kept.
//
// A real site never offers its signing key to an endpoint like this one: the
// demo does so that an edit in the page runs in the page's engine at once.
func (s *server) servePlaygroundCompile(w http.ResponseWriter, r *http.Request) {
	src, ok := readPlayground(w, r)
	if !ok {
		return
	}
	rs, res := lint(src)
	if rs == nil {
		writeJSONStatus(w, http.StatusUnprocessableEntity, res)
		return
	}
	ewr, err := buildtime.EncodeRuleset(rs, s.shop.key)
	if err != nil {
		res.OK = false
		res.Errors++
		res.Catalogue = nil
		res.Diagnostics = append(res.Diagnostics, diagnostic{Severity: ruleset.SeverityError, Category: "encode", Message: err.Error(), Text: err.Error()})
		writeJSONStatus(w, http.StatusUnprocessableEntity, res)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Edgewise-Ruleset", rs.ID+"@"+rs.Version)
	_, _ = w.Write(ewr)
}

// servePlayground serves the playground page.
func (s *server) servePlayground(w http.ResponseWriter, r *http.Request) {
	page, err := embedded.ReadFile("site/playground.html")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(page)
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
