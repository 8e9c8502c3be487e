package backend_test

import (
	"fmt"

	"github.com/layersim/layersim/lcka/backend"
)

func ExampleParse() {
	for _, s := range []string{"go", "xla:cuda", "xla:cuda,memory_fraction=0.9", "xla:gpu"} {
		spec, err := backend.Parse(s)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(spec, spec.Kind, spec.HostMemory())
	}
	// Output:
	// go go true
	// xla:cuda xla false
	// xla:cuda,memory_fraction=0.9 xla false
	// error: backend "xla:gpu": unknown plugin "gpu"; want cuda, cpu or an absolute path to a .so file
}
