// Package abitest reads the golden ABI corpus in testdata/abi/golden: recorded
// requests and the exact response bytes the engine must give for them, natively,
// in wazero and in the browser SDK alike.
package abitest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// File is one golden case: steps run in order on a fresh engine.
type File struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Steps       []Step `json:"steps"`
}

// Step is one call with its request and expected response as msgpack bytes.
// Response is the decoded response, there for people reading diffs.
type Step struct {
	Op          string `json:"op"`
	RequestB64  string `json:"request_b64"`
	ResponseB64 string `json:"response_b64"`
	Response    any    `json:"response"`
}

// Request returns the step's request bytes.
func (s Step) Request() ([]byte, error) { return base64.StdEncoding.DecodeString(s.RequestB64) }

// WantResponse returns the step's expected response bytes.
func (s Step) WantResponse() ([]byte, error) { return base64.StdEncoding.DecodeString(s.ResponseB64) }

// Load reads every golden file in dir, sorted by name. It fails when there are none,
// so a missing corpus cannot pass for an empty one.
func Load(dir string) ([]File, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no golden files in %s", dir)
	}
	sort.Strings(paths)
	files := make([]File, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var f File
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if len(f.Steps) == 0 {
			return nil, fmt.Errorf("%s: no steps", p)
		}
		files = append(files, f)
	}
	return files, nil
}
