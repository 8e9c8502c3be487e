package simdrt

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestEnviron(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []string
		want    []string
		changed bool
	}{
		{"no GODEBUG", []string{"A=1"}, []string{"A=1", "GODEBUG=asyncpreemptoff=1"}, true},
		{"empty GODEBUG", []string{"GODEBUG=", "B=2"}, []string{"GODEBUG=asyncpreemptoff=1", "B=2"}, true},
		{"other settings", []string{"GODEBUG=gctrace=1"}, []string{"GODEBUG=gctrace=1,asyncpreemptoff=1"}, true},
		{"already on", []string{"GODEBUG=asyncpreemptoff=1"}, []string{"GODEBUG=asyncpreemptoff=1"}, false},
		{"user chose off", []string{"GODEBUG=gctrace=1, asyncpreemptoff=0"}, []string{"GODEBUG=gctrace=1, asyncpreemptoff=0"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := Environ(tc.in)
			if !slices.Equal(got, tc.want) || changed != tc.changed {
				t.Errorf("Environ(%q) = %q, %v; want %q, %v", tc.in, got, changed, tc.want, tc.changed)
			}
		})
	}
}

func TestConfigured(t *testing.T) {
	for in, want := range map[string]bool{
		"": false, "gctrace=1": false, "asyncpreemptoff=1": true,
		"x=1,asyncpreemptoff=0": true, "asyncpreemptoffx=1": false,
	} {
		if got := Configured(in); got != want {
			t.Errorf("Configured(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestMain doubles as the child program of TestReExec.
func TestMain(m *testing.M) {
	if os.Getenv("SIMDRT_CHILD") == "1" {
		if err := ReExec(); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Printf("GODEBUG=%s\n", os.Getenv("GODEBUG"))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestReExec runs this test binary as a child that calls ReExec first, and
// reads the GODEBUG the child ends up with.
func TestReExec(t *testing.T) {
	for _, tc := range []struct{ godebug, want string }{
		{"", "GODEBUG=" + Setting},
		{"gctrace=0", "GODEBUG=gctrace=0," + Setting},
		{"asyncpreemptoff=0", "GODEBUG=asyncpreemptoff=0"},
	} {
		if !Affected() {
			tc.want = "GODEBUG=" + tc.godebug
		}
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe)
		cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
			return strings.HasPrefix(kv, "GODEBUG=")
		}), "SIMDRT_CHILD=1", "GODEBUG="+tc.godebug)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child with GODEBUG=%q: %v\n%s", tc.godebug, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != tc.want {
			t.Errorf("child with GODEBUG=%q ended with %q, want %q", tc.godebug, got, tc.want)
		}
	}
}

var sink float64

// BenchmarkScalarExp times math.Exp over a slice long enough for the
// runtime to preempt the loop asynchronously. Run it with and without
// GODEBUG=asyncpreemptoff=1 to see the penalty package simdrt describes
// (on an affected CPU about 1 µs per element against 7 ns).
func BenchmarkScalarExp(b *testing.B) {
	x := make([]float32, 1<<23)
	for i := range x {
		x[i] = float32(math.Sin(float64(i))) * 3
	}
	b.ResetTimer()
	for range b.N {
		s := 0.0
		for _, v := range x {
			s += math.Exp(float64(v))
		}
		sink = s
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/elem")
}
