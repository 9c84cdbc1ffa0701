// The neighbourhood of coefficients along a transform's own axes, and the
// harmonic interpolation ROAD imputes removed coefficients with.
#include <algorithm>
#include <cmath>
#include <string>

#include "trim/attribution/evaluate.hpp"
#include "trim/core/error.hpp"
#include "trim/transforms/wavelet.hpp"

namespace trim {

namespace {

void link(CoefficientNeighbours& nb, int64_t a, int64_t b) {
  if (a == b) return;
  auto& la = nb.adjacent[static_cast<size_t>(a)];
  if (std::find(la.begin(), la.end(), b) != la.end()) return;
  la.push_back(b);
  nb.adjacent[static_cast<size_t>(b)].push_back(a);
}

/// Edges between elements one step apart along each of `axes` of the
/// row-major array `shape` (wrapping around where `periodic`).
void grid_edges(CoefficientNeighbours& nb, const Shape& shape, const std::vector<int>& axes,
                const std::vector<bool>& periodic) {
  const int rank = shape.rank();
  std::vector<int64_t> stride(static_cast<size_t>(rank), 1);
  for (int a = rank - 2; a >= 0; --a)
    stride[static_cast<size_t>(a)] = stride[static_cast<size_t>(a) + 1] * shape[a + 1];
  const int64_t n = shape.numel();
  for (int64_t i = 0; i < n; ++i)
    for (size_t k = 0; k < axes.size(); ++k) {
      const int a = axes[k];
      const int64_t size = shape[a], st = stride[static_cast<size_t>(a)];
      const int64_t pos = (i / st) % size;
      if (pos + 1 < size)
        link(nb, i, i + st);
      else if (periodic[k] && size > 2)
        link(nb, i, i - pos * st);
    }
}

void wavelet_edges(CoefficientNeighbours& nb, const WaveletTransform& w) {
  const kernels::WaveletLayout& L = w.layout();
  for (int64_t c = 0; c < w.channels(); ++c) {
    const int64_t base = c * L.size;
    for (const kernels::WaveletBand& b : L.bands) {
      const Shape band(std::vector<int64_t>(b.shape.begin(), b.shape.end()));
      CoefficientNeighbours local{band, std::vector<std::vector<int64_t>>(static_cast<size_t>(b.size)), ""};
      std::vector<int> axes;
      for (int a = 0; a < band.rank(); ++a) axes.push_back(a);
      grid_edges(local, band, axes, std::vector<bool>(axes.size(), false));
      for (int64_t i = 0; i < b.size; ++i)
        for (int64_t j : local.adjacent[static_cast<size_t>(i)])
          if (j > i) link(nb, base + b.offset + i, base + b.offset + j);
      // Scale: each detail coefficient and its parent, the same orientation
      // one level coarser (the same position for stationary transforms).
      if (b.orientation == 'a' || b.shape.size() > 2) continue;  // 3-D: neighbours inside the band only
      const kernels::WaveletBand* parent = nullptr;
      for (const kernels::WaveletBand& p : L.bands)
        if (p.level == b.level + 1 && p.orientation == b.orientation) parent = &p;
      if (!parent) continue;
      const bool two = b.shape.size() == 2;
      const int64_t h = two ? b.shape[0] : 1, wd = b.shape.back();
      const int64_t ph = two ? parent->shape[0] : 1, pw = parent->shape.back();
      for (int64_t r = 0; r < h; ++r)
        for (int64_t q = 0; q < wd; ++q) {
          const int64_t pr = L.stationary ? r : std::min(r / 2, ph - 1);
          const int64_t pq = L.stationary ? q : std::min(q / 2, pw - 1);
          link(nb, base + b.offset + r * wd + q, base + parent->offset + pr * pw + pq);
        }
    }
  }
}

}  // namespace

CoefficientNeighbours coefficient_neighbours(const Transform& t) {
  const Shape& shape = t.coefficient_shape();
  CoefficientNeighbours nb{shape, std::vector<std::vector<int64_t>>(static_cast<size_t>(shape.numel())), ""};
  const std::string family = t.family();
  const int rank = shape.rank();
  if (const auto* w = dynamic_cast<const WaveletTransform*>(&t)) {
    wavelet_edges(nb, *w);
    nb.description = family + ": positions inside each sub-band, and each detail with its parent one level coarser";
    return nb;
  }
  const CoefficientLayout layout = t.coefficient_layout();
  const bool fft = layout == CoefficientLayout::Spectrum;
  const bool rfft = layout == CoefficientLayout::HalfSpectrum;
  const bool dct = layout == CoefficientLayout::Cosine;
  std::vector<int> axes;
  std::vector<bool> periodic;
  if (fft || rfft) {
    const int d = t.axes();
    for (int k = 0; k < d; ++k) {
      axes.push_back(rank - 1 - d + k);
      periodic.push_back(fft || k + 1 < d);  // rfft's last axis holds 0..n/2 only
    }
    nb.description = family + ": the frequency grid (" + (fft ? "periodic" : "periodic but along the half axis") +
                     "), real and imaginary parts separately";
  } else if (dct) {
    const int d = t.axes();
    for (int k = 0; k < d; ++k) axes.push_back(rank - d + k), periodic.push_back(false);
    nb.description = family + ": the frequency grid";
  } else if (layout == CoefficientLayout::TimeFrequency) {
    axes = {rank - 3, rank - 2};  // [channels..., bins, frames, (re, im)]
    periodic = {false, false};
    nb.description = family + ": the frequency x time grid, real and imaginary parts separately";
  } else if (layout == CoefficientLayout::Samples) {
    for (int a = std::max(0, rank - 2); a < rank; ++a) axes.push_back(a), periodic.push_back(false);
    nb.description = "identity: the grid of the last " + std::to_string(axes.size()) + " axes";
  } else {
    nb.description = family + ": components have no order, no neighbours (ROAD imputes the baseline)";
    return nb;
  }
  grid_edges(nb, shape, axes, periodic);
  return nb;
}

std::vector<float> impute_from_neighbours(const CoefficientNeighbours& nb, const std::vector<float>& values,
                                          const std::vector<char>& unknown, const std::vector<float>& fallback) {
  const int64_t n = static_cast<int64_t>(nb.adjacent.size());
  if (static_cast<int64_t>(values.size()) != n || static_cast<int64_t>(unknown.size()) != n ||
      static_cast<int64_t>(fallback.size()) != n)
    throw ShapeError("impute_from_neighbours: " + std::to_string(values.size()) + " values, " +
                     std::to_string(unknown.size()) + " flags and " + std::to_string(fallback.size()) +
                     " fallbacks for a neighbourhood of " + std::to_string(n) + " coefficients");
  std::vector<float> out = values;
  // Unknowns in a connected part without a known neighbour get the fallback;
  // the others are solved for.
  std::vector<int64_t> index(static_cast<size_t>(n), -1), part, stack;
  std::vector<char> seen(static_cast<size_t>(n), 0);
  std::vector<int64_t> solve;
  for (int64_t i = 0; i < n; ++i) {
    if (!unknown[static_cast<size_t>(i)] || seen[static_cast<size_t>(i)]) continue;
    part.clear();
    bool anchored = false;
    stack.assign(1, i);
    seen[static_cast<size_t>(i)] = 1;
    while (!stack.empty()) {
      const int64_t u = stack.back();
      stack.pop_back();
      part.push_back(u);
      for (int64_t v : nb.adjacent[static_cast<size_t>(u)]) {
        if (!unknown[static_cast<size_t>(v)]) {
          anchored = true;
        } else if (!seen[static_cast<size_t>(v)]) {
          seen[static_cast<size_t>(v)] = 1;
          stack.push_back(v);
        }
      }
    }
    for (int64_t u : part) {
      if (anchored) {
        index[static_cast<size_t>(u)] = static_cast<int64_t>(solve.size());
        solve.push_back(u);
      } else {
        out[static_cast<size_t>(u)] = fallback[static_cast<size_t>(u)];
      }
    }
  }
  const size_t m = solve.size();
  if (m == 0) return out;
  // deg(u) v_u − Σ_{unknown j ~ u} v_j = Σ_{known j ~ u} x_j: symmetric
  // positive definite on anchored parts; Jacobi-preconditioned CG in double.
  std::vector<double> rhs(m, 0.0), diag(m, 0.0);
  for (size_t k = 0; k < m; ++k) {
    const auto& adj = nb.adjacent[static_cast<size_t>(solve[k])];
    diag[k] = static_cast<double>(adj.size());
    for (int64_t v : adj)
      if (!unknown[static_cast<size_t>(v)]) rhs[k] += values[static_cast<size_t>(v)];
  }
  auto apply = [&](const std::vector<double>& x, std::vector<double>& y) {
    for (size_t k = 0; k < m; ++k) {
      double acc = diag[k] * x[k];
      for (int64_t v : nb.adjacent[static_cast<size_t>(solve[k])]) {
        const int64_t j = index[static_cast<size_t>(v)];
        if (j >= 0) acc -= x[static_cast<size_t>(j)];
      }
      y[k] = acc;
    }
  };
  std::vector<double> x(m), r(m), z(m), p(m), q(m);
  for (size_t k = 0; k < m; ++k) x[k] = rhs[k] / diag[k];
  apply(x, q);
  double rhs_norm = 0.0;
  for (size_t k = 0; k < m; ++k) r[k] = rhs[k] - q[k], rhs_norm += rhs[k] * rhs[k];
  rhs_norm = std::sqrt(rhs_norm);
  for (size_t k = 0; k < m; ++k) z[k] = r[k] / diag[k];
  p = z;
  double rz = 0.0;
  for (size_t k = 0; k < m; ++k) rz += r[k] * z[k];
  const size_t max_iter = 10 * m + 100;
  for (size_t it = 0; it < max_iter; ++it) {
    double rr = 0.0;
    for (size_t k = 0; k < m; ++k) rr += r[k] * r[k];
    if (std::sqrt(rr) <= 1e-12 * std::max(rhs_norm, 1e-30)) break;
    apply(p, q);
    double pq = 0.0;
    for (size_t k = 0; k < m; ++k) pq += p[k] * q[k];
    if (!(pq > 0.0)) break;
    const double alpha = rz / pq;
    for (size_t k = 0; k < m; ++k) x[k] += alpha * p[k], r[k] -= alpha * q[k];
    double rz_new = 0.0;
    for (size_t k = 0; k < m; ++k) z[k] = r[k] / diag[k], rz_new += r[k] * z[k];
    const double beta = rz_new / rz;
    rz = rz_new;
    for (size_t k = 0; k < m; ++k) p[k] = z[k] + beta * p[k];
  }
  for (size_t k = 0; k < m; ++k) out[static_cast<size_t>(solve[k])] = static_cast<float>(x[k]);
  return out;
}

}  // namespace trim
