#pragma once
/// \file
/// FFTW kernels: discrete Fourier and cosine transforms over the last `d` axes
/// of a tensor, the leading axes being a batch (one FFTW "howmany" plan, not a
/// loop of plans).
///
/// Complex values are a trailing dimension of 2 (re, im), bit-compatible with
/// `fftwf_complex`. Sizes may be anything (odd, prime). Results follow NumPy's
/// `numpy.fft` (and SciPy's `scipy.fft.dct` for the cosine transforms),
/// including the `norm` argument.
///
/// Plans live in one process-wide cache keyed by the full descriptor (kind,
/// sizes, batch count, in-place, pointer alignment, planner flags). Planning
/// happens under a mutex on private scratch arrays, so FFTW_MEASURE never
/// touches caller data; execution uses FFTW's new-array interface outside the
/// lock, so every function here may be called from many threads at once.

#include <cstddef>
#include <cstdint>
#include <string>

#include "trim/core/tensor.hpp"

namespace trim::kernels {

/// Normalisation with NumPy's meaning: `Backward` leaves the forward transform
/// unscaled and scales the inverse by 1/n; `Ortho` scales both by 1/sqrt(n)
/// (the transforms become unitary); `Forward` scales the forward by 1/n and
/// leaves the inverse unscaled. n is the product of the transformed sizes
/// (times 2^d for the DCT, as in SciPy).
enum class Norm { Backward, Ortho, Forward };

/// How hard FFTW plans. `Estimate` (the default) plans instantly from
/// heuristics; `Measure` times candidate algorithms once per new descriptor
/// (slow first call, faster execution; worth it for long-running jobs).
enum class FftPlanner { Estimate, Measure };

/// Sets the planner mode for plans created from now on (existing cached plans
/// stay; the mode is part of the cache key).
void fft_set_planner(FftPlanner mode);
FftPlanner fft_planner();

/// Loads FFTW wisdom (accumulated planning results) from `path`, so Measure
/// plans are instant across runs. Throws IoError naming the file.
void fft_load_wisdom(const std::string& path);
/// Saves the current FFTW wisdom to `path`. Throws IoError naming the file.
void fft_save_wisdom(const std::string& path);

/// Number of plans in the cache (for tests and diagnostics).
std::size_t fft_plan_count();
/// Drops every cached plan (plans in use by running calls stay valid until
/// those calls finish).
void fft_clear_plans();

/// Full complex spectrum of a real tensor over its last `d` axes, like
/// `numpy.fft.fftn(x, axes=last d)`: [..., n1..nd] -> [..., n1..nd, 2].
Tensor fft_real(const Tensor& x, int d, Norm norm = Norm::Backward);

/// Complex-to-complex DFT over the `d` axes before the trailing (re, im)
/// axis: [..., n1..nd, 2] -> same shape. `inverse` selects numpy.fft.ifftn.
Tensor fft_complex(const Tensor& x, int d, bool inverse, Norm norm = Norm::Backward);
/// numpy.fft.fftn of a complex tensor (see fft_complex).
inline Tensor fftn(const Tensor& x, int d, Norm norm = Norm::Backward) { return fft_complex(x, d, false, norm); }
/// numpy.fft.ifftn of a complex tensor (see fft_complex).
inline Tensor ifftn(const Tensor& x, int d, Norm norm = Norm::Backward) { return fft_complex(x, d, true, norm); }

/// Half spectrum of a real tensor, like numpy.fft.rfftn over the last `d`
/// axes: [..., n1..nd] -> [..., n1..n(d-1), nd/2+1, 2].
Tensor rfftn(const Tensor& x, int d, Norm norm = Norm::Backward);
/// Inverse of rfftn, like numpy.fft.irfftn with s = (n1..n(d-1), last_size):
/// [..., n1..n(d-1), h, 2] -> [..., n1..n(d-1), last_size] where h must equal
/// last_size/2+1 (the output size cannot be inferred: it may be odd). The
/// input is never modified (FFTW's c2r would destroy it; we work on a copy).
Tensor irfftn(const Tensor& x, int d, int64_t last_size, Norm norm = Norm::Backward);

/// The same transforms writing into `y`, which is given the output shape and
/// keeps its allocation when it already has it: repeated calls on the same
/// sizes (a graph workspace, a benchmark loop) then touch no fresh memory.
/// `y` must not alias `x`.
void fft_real_into(const Tensor& x, int d, Tensor& y, Norm norm = Norm::Backward);
void rfftn_into(const Tensor& x, int d, Tensor& y, Norm norm = Norm::Backward);
void irfftn_into(const Tensor& x, int d, int64_t last_size, Tensor& y, Norm norm = Norm::Backward);

/// Real part of numpy.fft.ifftn of a complex tensor over its last `d` axes
/// (before the (re, im) axis): [..., n1..nd, 2] -> [..., n1..nd]. Computed as
/// the c2r inverse of the Hermitian part of x, half the work of ifftn.
void real_ifftn_into(const Tensor& x, int d, Tensor& y, Norm norm = Norm::Backward);

/// DCT of type 2 or 3 over the last `d` axes of a real tensor, like
/// scipy.fft.dctn(x, type, axes=last d, norm): type 2 is FFTW's REDFT10, type
/// 3 its REDFT01. With Norm::Ortho the transform is an orthonormal matrix
/// (SciPy also scales the first coefficient by 1/sqrt(2)). Same shape out.
Tensor dct(const Tensor& x, int d, int type = 2, Norm norm = Norm::Backward);
/// Inverse of `dct` with the same type and norm, like scipy.fft.idctn
/// (the inverse of type 2 is a scaled type 3 and vice versa).
Tensor idct(const Tensor& x, int d, int type = 2, Norm norm = Norm::Backward);

/// numpy.fft.fftshift over the last `d` axes (zero frequency to the centre).
/// With `complex` the trailing (re, im) axis is kept and the `d` axes before
/// it are shifted.
Tensor fftshift(const Tensor& x, int d, bool complex = false);
/// numpy.fft.ifftshift: undoes fftshift (they differ for odd sizes).
Tensor ifftshift(const Tensor& x, int d, bool complex = false);

}  // namespace trim::kernels
