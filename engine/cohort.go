package engine

// Cohort catalogue: SHARED SPEC, the collector implements the same.
//
// For cohort dimensions D1..Dn (in ruleset order) with bucket counts
// b1..bn, the catalogue lists
//
//  1. every full cohort (a bucket of each of the n dimensions), in
//     row-major order: D1 varies slowest, Dn fastest;
//  2. then every cohort of the first n-1 dimensions, in the same order;
//  3. ... and so on, down to the cohorts of D1 alone (b1 of them).
//
// A cohort's id is "dim=bucket/dim=bucket/..." in dimension order, with
// dimension and bucket ids from the ruleset (e.g. "interest=running/region=eu").
// Its zero-based index in this list is the value a report carries. The
// catalogue holds K = Σ_{l=1..n} Π_{i≤l} b_i cohorts. With no dimensions
// there is no catalogue (K = 0) and nothing is ever reported.
//
// Example: interest {a, b}, region {x, y, z}: K = 6 + 2 = 8 and the
// catalogue is interest=a/region=x, interest=a/region=y, interest=a/region=z,
// interest=b/region=x, interest=b/region=y, interest=b/region=z, interest=a,
// interest=b.
//
// Assigning a person to a cohort, per dimension:
//
//   - interest: the bucket whose tags hold the person's strongest affinity
//     (hidden interests have none; the first such bucket on a tie); with no
//     affinity for any bucket's tags, the catch-all bucket.
//   - region: the first bucket listing a region the person is in (context
//     regions, or the context's country or subdivision listed by the
//     ruleset's region); else the catch-all bucket.
//   - engagement: the first bucket whose visits range holds context.visits;
//     else the catch-all bucket.
//
// The catch-all bucket is the first with no tags, regions or visits. A
// dimension with no bucket for the person and no catch-all makes the person
// unassignable, and nothing is reported.
//
// k-anonymity: the collector publishes its estimated cohort sizes. When the
// report request carries them, a cohort whose size is below min_k (a cohort
// missing from them has size 0) is replaced by the coarser cohort without
// its last dimension, repeatedly; when even the cohort of D1 alone is below
// min_k nothing is reported. An empty table means the collector has
// published nothing yet, and the cohort of D1 alone is used, so that the
// first reports can come in. With no sizes given at all (nil), the full
// cohort is used: tools that simulate without a collector do that.

import "strings"

// CohortCatalogue lists the ruleset's cohort ids in catalogue order (see
// above); it is nil when the ruleset has no cohort dimensions.
func CohortCatalogue(rs *Ruleset) []string {
	return cohortCatalogue(rs.Cohorts.Dimensions)
}

func cohortCatalogue(dims []Dimension) []string {
	var out []string
	for l := len(dims); l >= 1; l-- {
		prefix := []string{""}
		for _, d := range dims[:l] {
			next := make([]string, 0, len(prefix)*len(d.Buckets))
			for _, p := range prefix {
				for _, b := range d.Buckets {
					id := d.ID + "=" + b.ID
					if p != "" {
						id = p + "/" + id
					}
					next = append(next, id)
				}
			}
			prefix = next
		}
		if len(dims[:l]) > 0 {
			out = append(out, prefix...)
		}
	}
	return out
}

// catalogueSize is K, the size of the catalogue.
func catalogueSize(dims []Dimension) int {
	k, prod := 0, 1
	for _, d := range dims {
		prod *= len(d.Buckets)
		k += prod
	}
	if len(dims) == 0 {
		return 0
	}
	return k
}

// cohortIndex is the catalogue index of the cohort of the first
// len(buckets) dimensions with those bucket numbers.
func cohortIndex(dims []Dimension, buckets []int) int {
	l := len(buckets)
	// Levels finer than l come first.
	off, prod := 0, 1
	for i, d := range dims {
		prod *= len(d.Buckets)
		if i+1 > l {
			off += prod
		}
	}
	idx := 0
	for i, b := range buckets {
		idx = idx*len(dims[i].Buckets) + b
	}
	return off + idx
}

// cohortLevel is how many dimensions the cohort at catalogue index idx has.
func cohortLevel(dims []Dimension, idx int) int {
	off := 0
	for l := len(dims); l >= 1; l-- {
		size := 1
		for _, d := range dims[:l] {
			size *= len(d.Buckets)
		}
		if idx < off+size {
			return l
		}
		off += size
	}
	return 0
}

// cohortID is the id of the cohort of the first len(buckets) dimensions.
func cohortID(dims []Dimension, buckets []int) string {
	var sb strings.Builder
	for i, b := range buckets {
		if i > 0 {
			sb.WriteByte('/')
		}
		sb.WriteString(dims[i].ID)
		sb.WriteByte('=')
		sb.WriteString(dims[i].Buckets[b].ID)
	}
	return sb.String()
}

func catchAll(d *Dimension) int {
	for i, b := range d.Buckets {
		if len(b.Tags) == 0 && len(b.Regions) == 0 && b.Visits == nil {
			return i
		}
	}
	return -1
}

// assignCohort returns the person's bucket number in every dimension, or
// the id of the first dimension the person cannot be assigned in.
func (e *Engine) assignCohort() ([]int, string) {
	c := e.rules
	dims := c.cohorts.Dimensions
	out := make([]int, len(dims))
	var aff []tagAffinity
	var inReg []bool
	ctx := c.minimize(e.context)
	for i := range dims {
		d := &dims[i]
		b := -1
		switch d.From {
		case DimensionInterest:
			if aff == nil {
				aff = e.affinities()
			}
			best := 0.0
			for j, bk := range d.Buckets {
				for _, t := range bk.Tags {
					n, ok := c.tagIndex[t]
					if !ok || (e.hiddenTag != nil && e.hiddenTag[n]) {
						continue
					}
					if w := aff[n].weight; w > best {
						best, b = w, j
					}
				}
			}
		case DimensionRegion:
			if inReg == nil {
				inReg = c.personRegions(ctx)
			}
		regions:
			for j, bk := range d.Buckets {
				for _, r := range bk.Regions {
					for n, reg := range c.regions {
						if reg.ID == r && inReg != nil && inReg[n] {
							b = j
							break regions
						}
					}
				}
			}
		case DimensionEngagement:
			if ctx.Visits != nil {
				v := *ctx.Visits
				for j, bk := range d.Buckets {
					if r := bk.Visits; r != nil && (r.Min == nil || v >= *r.Min) && (r.Max == nil || v <= *r.Max) {
						b = j
						break
					}
				}
			}
		}
		if b < 0 {
			b = catchAll(d)
		}
		if b < 0 {
			return nil, d.ID
		}
		out[i] = b
	}
	return out, ""
}
