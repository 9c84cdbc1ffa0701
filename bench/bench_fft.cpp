// 2-D real-input FFT round trip (rfftn then irfftn) through trim's kernels,
// next to the bare FFTW plans executed on the same sizes in the same binary,
// so the cost of trim's layer (plan cache look-up, allocation, copies,
// normalisation) shows as a ratio. bench/compare_numpy.py adds NumPy.
#include <benchmark/benchmark.h>
#include <fftw3.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "trim/core/rng.hpp"
#include "trim/kernels/fft.hpp"

namespace {

using namespace trim;

Tensor image(int64_t n) {
  Tensor x({1, n, n});
  Rng(7).fill_normal(x, 0.0f, 1.0f);
  return x;
}

/// trim: kernels::rfftn_into + kernels::irfftn_into (backward norm: the
/// inverse is scaled by 1/n², and irfftn copies its input to a per-thread
/// scratch because c2r destroys it).
void BM_TrimRfft2RoundTrip(benchmark::State& state) {
  const int64_t n = state.range(0);
  const Tensor x = image(n);
  Tensor s, y;  // outputs kept across iterations, as a graph workspace keeps them
  for (auto _ : state) {
    kernels::rfftn_into(x, 2, s);
    kernels::irfftn_into(s, 2, n, y);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

/// Bare FFTW: r2c and c2r plans made once (FFTW_ESTIMATE, as trim's default),
/// executed in the loop; the half spectrum is copied before c2r (which
/// destroys its input) and the result scaled by 1/n², the same work trim does
/// minus its own layer.
void BM_FftwRfft2RoundTrip(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const size_t real = size_t(n) * n, half = size_t(n) * (n / 2 + 1);
  float* in = fftwf_alloc_real(real);
  float* out = fftwf_alloc_real(real);
  fftwf_complex* spec = fftwf_alloc_complex(half);
  fftwf_complex* work = fftwf_alloc_complex(half);
  fftwf_plan r2c = fftwf_plan_dft_r2c_2d(n, n, in, spec, FFTW_ESTIMATE);
  fftwf_plan c2r = fftwf_plan_dft_c2r_2d(n, n, work, out, FFTW_ESTIMATE);
  const Tensor x = image(n);
  std::memcpy(in, x.data(), real * sizeof(float));
  const float scale = 1.0f / static_cast<float>(real);
  for (auto _ : state) {
    fftwf_execute(r2c);
    std::memcpy(work, spec, half * sizeof(fftwf_complex));
    fftwf_execute(c2r);
    for (size_t i = 0; i < real; ++i) out[i] *= scale;
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  fftwf_destroy_plan(r2c);
  fftwf_destroy_plan(c2r);
  fftwf_free(in);
  fftwf_free(out);
  fftwf_free(spec);
  fftwf_free(work);
}

BENCHMARK(BM_TrimRfft2RoundTrip)->Arg(64)->Arg(256)->Arg(1024)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FftwRfft2RoundTrip)->Arg(64)->Arg(256)->Arg(1024)->Unit(benchmark::kMicrosecond);

/// Console output plus, at the end, trim / bare FFTW per size (medians when
/// repetitions are requested, else the single run).
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      if (r.run_type == Run::RT_Aggregate && !median) continue;
      const std::string name = r.run_name.function_name;  // e.g. BM_TrimRfft2RoundTrip
      const int size = std::stoi(r.run_name.args);         // e.g. 256
      auto& slot = (name.find("Trim") != std::string::npos ? trim_ : fftw_)[size];
      // a median replaces single repetitions; otherwise keep the last run
      if (median || !slot.second) slot = {r.GetAdjustedRealTime(), median};
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\ntrim overhead over bare FFTW (2-D rfft + irfft round trip):\n");
    std::printf("%8s %12s %12s %8s\n", "size", "trim us", "fftw us", "ratio");
    for (const auto& [size, t] : trim_) {
      auto f = fftw_.find(size);
      if (f == fftw_.end()) continue;
      std::printf("%8d %12.2f %12.2f %8.2f\n", size, t.first, f->second.first, t.first / f->second.first);
    }
  }

 private:
  std::map<int, std::pair<double, bool>> trim_, fftw_;  // size -> (time, is median)
};

}  // namespace

int main(int argc, char** argv) {
  // Checked before Initialize, which removes the flags it recognises.
  bool console = true;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--benchmark_format=", 19) == 0 && std::strcmp(argv[i] + 19, "console") != 0)
      console = false;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (console) {
    RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
  } else {
    benchmark::RunSpecifiedBenchmarks();
  }
  benchmark::Shutdown();
  return 0;
}
