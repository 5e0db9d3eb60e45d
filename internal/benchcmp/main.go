// Command benchcmp reads `go test -bench` output and prints each native
// benchmark beside its wazero twin (BenchmarkX and BenchmarkXWasm) with the
// ratio, then the custom metrics (events/s, MiB-memory, ...). It is what
// scripts/bench-compare and `make bench` run.
//
//	go test -run '^$' -bench . ./... | go run ./internal/benchcmp
//	go run ./internal/benchcmp bench.txt
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// result is one benchmark's figures: unit -> value (ns/op, B/op, events/s...).
type result map[string]float64

var line = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func parse(r io.Reader) (map[string]result, []string, error) {
	out := map[string]result{}
	var order []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := line.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		f := strings.Fields(m[2])
		res := result{}
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			res[f[i+1]] = v
		}
		if _, seen := out[m[1]]; !seen {
			order = append(order, m[1])
		}
		out[m[1]] = res // with -count, the last run wins
	}
	return out, order, sc.Err()
}

func duration(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func main() {
	in := io.Reader(os.Stdin)
	if len(os.Args) > 1 {
		f, err := os.Open(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		in = f
	}
	res, order, err := parse(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(res) == 0 {
		fmt.Fprintln(os.Stderr, "benchcmp: no benchmark results in the input")
		os.Exit(1)
	}
	fmt.Printf("\n%-28s %12s %12s %8s\n", "benchmark", "native", "wazero", "ratio")
	paired := 0
	for _, name := range order {
		w, ok := res[name+"Wasm"]
		n := res[name]
		if !ok || n["ns/op"] == 0 || w["ns/op"] == 0 {
			continue
		}
		paired++
		fmt.Printf("%-28s %12s %12s %7.1fx\n", name, duration(n["ns/op"]), duration(w["ns/op"]), w["ns/op"]/n["ns/op"])
	}
	if paired == 0 {
		fmt.Println("(no native/wazero pairs: run the engine and wasm benchmarks together)")
	}
	var metrics []string
	for _, name := range order {
		for unit, v := range res[name] {
			switch unit {
			case "ns/op", "B/op", "allocs/op", "MB/s":
				continue
			}
			metrics = append(metrics, fmt.Sprintf("%-28s %14.1f %s", name, v, unit))
		}
	}
	if len(metrics) > 0 {
		sort.Strings(metrics)
		fmt.Println()
		for _, m := range metrics {
			fmt.Println(m)
		}
	}
}
