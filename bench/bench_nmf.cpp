// NMF fits (trim::NMF, scikit-learn 1.2 semantics in double precision) on
// scikit-learn's digits (1797 x 64, k = 16) and on a 10000 x 784 uniform
// random matrix (k = 30). bench/compare_sklearn.py runs this next to
// scikit-learn on the same data.
//
//   bench_nmf [--digits=PATH] [--target_digits_cd=E] [--target_digits_mu=E]
//             [--target_random_cd=E] [Google Benchmark flags]
//
// BM_NmfFit/<data>/<solver>: a full fit with scikit-learn's defaults
// (init nndsvda with seed 0 = random_state=0, tol 1e-4, max_iter 200).
// BM_NmfToTarget/<data>/<solver> (registered when a target is given): the
// same start, stopping as soon as the reconstruction error is <= E
// (scikit-learn's final error), i.e. the time to reach scikit-learn's loss.
// Counters: nmf_iters (iterations run), error (final reconstruction error).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "trim/transforms/dictionary.hpp"

namespace {

/// Default: next to this source file (Meson compiles it by a path relative to
/// the build directory, so this works when run from there).
std::string default_digits_path() {
  std::string f = __FILE__;
  const size_t slash = f.find_last_of('/');
  return (slash == std::string::npos ? std::string(".") : f.substr(0, slash)) + "/../tests/reference/data/digits.txt";
}
std::string g_digits_path = default_digits_path();

/// digits.txt: one image per line, '1'-'9','a'-'g' = 1..16, 'A'-'Z' = runs
/// of 1..26 zeros (see tests/reference/make_nmf.py).
trim::MatrixXdRM load_digits(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("bench_nmf: cannot open " + path + " (pass --digits=PATH)");
  std::vector<double> v;
  std::string line;
  int64_t rows = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    for (char c : line) {
      if (c >= 'A' && c <= 'Z') v.insert(v.end(), size_t(c - 'A' + 1), 0.0);
      else if (c >= '1' && c <= '9') v.push_back(c - '0');
      else if (c >= 'a' && c <= 'g') v.push_back(c - 'a' + 10);
    }
    ++rows;
  }
  if (rows == 0 || v.size() != size_t(rows) * 64) throw std::runtime_error("bench_nmf: bad digits file " + path);
  return Eigen::Map<const trim::MatrixXdRM>(v.data(), rows, 64);
}

/// Uniform [0, 1) from splitmix64 of (salt·2^32 + index): reproducible in
/// NumPy (compare_sklearn.py builds the same matrix).
trim::MatrixXdRM hashed_uniform(int64_t n, int64_t m, uint64_t salt) {
  trim::MatrixXdRM X(n, m);
  for (int64_t i = 0; i < n * m; ++i) {
    uint64_t z = (salt << 32) + uint64_t(i) + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    X.data()[i] = double(z >> 11) * 0x1.0p-53;
  }
  return X;
}

const trim::MatrixXdRM& digits() {
  static const trim::MatrixXdRM X = load_digits(g_digits_path);
  return X;
}

const trim::MatrixXdRM& random_matrix_10000x784() {
  static const trim::MatrixXdRM X = hashed_uniform(10000, 784, 1);
  return X;
}

void run_fit(benchmark::State& state, const trim::MatrixXdRM& X, int k, trim::NmfSolver solver, double target) {
  trim::NmfOptions o;
  o.n_components = k;
  o.solver = solver;
  if (target > 0) {
    o.target_error = target;
    o.tol = 0;  // only the target stops the fit (or 10x scikit-learn's max_iter)
    o.max_iter = 2000;
  }
  int iters = 0;
  double err = 0;
  for (auto _ : state) {
    trim::NMF nmf(o);
    nmf.fit(X);
    iters = nmf.n_iter();
    err = nmf.reconstruction_err();
  }
  state.counters["nmf_iters"] = iters;
  state.counters["error"] = err;
}

double flag(int& argc, char** argv, const char* name, double fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      const std::string value = argv[i] + prefix.size();
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      if (std::string(name) == "digits") {
        g_digits_path = value;
        return 0;
      }
      return std::atof(value.c_str());
    }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  flag(argc, argv, "digits", 0);
  const double t_dcd = flag(argc, argv, "target_digits_cd", 0);
  const double t_dmu = flag(argc, argv, "target_digits_mu", 0);
  const double t_rcd = flag(argc, argv, "target_random_cd", 0);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  using trim::NmfSolver;
  benchmark::RegisterBenchmark("BM_NmfFit/digits/cd", [](benchmark::State& s) { run_fit(s, digits(), 16, NmfSolver::Cd, 0); })
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_NmfFit/digits/mu", [](benchmark::State& s) { run_fit(s, digits(), 16, NmfSolver::Mu, 0); })
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_NmfFit/random/cd",
                               [](benchmark::State& s) { run_fit(s, random_matrix_10000x784(), 30, NmfSolver::Cd, 0); })
      ->Unit(benchmark::kMillisecond);
  if (t_dcd > 0)
    benchmark::RegisterBenchmark("BM_NmfToTarget/digits/cd",
                                 [t_dcd](benchmark::State& s) { run_fit(s, digits(), 16, NmfSolver::Cd, t_dcd); })
        ->Unit(benchmark::kMillisecond);
  if (t_dmu > 0)
    benchmark::RegisterBenchmark("BM_NmfToTarget/digits/mu",
                                 [t_dmu](benchmark::State& s) { run_fit(s, digits(), 16, NmfSolver::Mu, t_dmu); })
        ->Unit(benchmark::kMillisecond);
  if (t_rcd > 0)
    benchmark::RegisterBenchmark("BM_NmfToTarget/random/cd",
                                 [t_rcd](benchmark::State& s) { run_fit(s, random_matrix_10000x784(), 30, NmfSolver::Cd, t_rcd); })
        ->Unit(benchmark::kMillisecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
