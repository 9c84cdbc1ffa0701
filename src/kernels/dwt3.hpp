#pragma once
// Internal: the 3-D flattened multilevel transforms (dwt3.cpp), called by
// wavedec_flat / waverec_flat / waverec_flat_adjoint for layouts with
// dims == 3 (`pywt.wavedecn` / `waverecn` on three axes).
#include <cstdint>

#include "trim/kernels/dwt.hpp"

namespace trim::kernels::detail {

void wavedec3_flat(const float* x, int64_t B, const WaveletLayout& L, const Wavelet& w, float* c);
void waverec3_flat(const float* c, int64_t B, const WaveletLayout& L, const Wavelet& w, float* x);
void waverec3_flat_adjoint(const float* gx, int64_t B, const WaveletLayout& L, const Wavelet& w, float* gc);

}  // namespace trim::kernels::detail
