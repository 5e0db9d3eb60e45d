package sim

import (
	"context"
	"testing"
)

// BenchmarkPopulation100k simulates the example ruleset's population of
// 100,000 visitors over four report epochs on runtime.NumCPU engines, and
// reports the re-identification measure after the fourth epoch.
func BenchmarkPopulation100k(b *testing.B) {
	tg := exampleTarget(b)
	ps := examplePersonas(b, tg)
	var p *Population
	for b.Loop() {
		var err error
		if p, err = runner.Population(context.Background(), tg, ps, PopulationOptions{Visitors: 100_000, Seed: 1, Epochs: 4}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(p.Visitors)*float64(b.N)/b.Elapsed().Seconds(), "visitors/s")
	b.ReportMetric(100*p.Unique[len(p.Unique)-1].Fraction, "%unique@4")
}
