// placeholder: FFT benchmarks arrive with the Fourier transforms work
#include <benchmark/benchmark.h>
BENCHMARK_MAIN();
