package tinymodels

import "math"

// splitMix64 is the SplitMix64 generator (Steele, Lea and Flood, "Fast
// splittable pseudorandom number generators", OOPSLA 2014). It is written
// out here, rather than taken from math/rand, so that the weights of a seed
// never change with the Go release.
type splitMix64 struct{ state uint64 }

func (r *splitMix64) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// uniform returns a number in the open interval (0, 1) with 53 random bits.
func (r *splitMix64) uniform() float64 {
	return (float64(r.next()>>11) + 0.5) / (1 << 53)
}

// normal returns a standard normal number (Box–Muller, cosine branch only).
func (r *splitMix64) normal() float64 {
	u1, u2 := r.uniform(), r.uniform()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// stream returns the generator of one tensor: its state depends on the
// seed and the tensor's name only, so tensors do not depend on the order in
// which they are made.
func stream(seed int64, name string) *splitMix64 {
	// FNV-1a of the name, mixed with the seed.
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	r := &splitMix64{state: h ^ uint64(seed)*0x9e3779b97f4a7c15}
	r.next()
	return r
}
