#pragma once
/// \file
/// Discrete wavelet transforms with PyWavelets' (1.1.1) conventions: the same
/// wavelet names and filters, the nine signal-extension modes, coefficient
/// lengths, multilevel ordering and odd-size trimming, so coefficients match
/// `pywt.wavedec` / `pywt.wavedec2` / `pywt.swt` to float32 rounding.
///
/// Every function acts on the trailing axis (1-D) or the trailing two axes
/// (2-D) of a float32 tensor; leading axes are a batch. Filters are stored in
/// double (PyWavelets' tables) and converted to float once per call.
///
/// Two interfaces:
/// - PyWavelets-shaped functions (`dwt`, `wavedec`, `dwt2`, `swt`, ...) that
///   return one tensor per coefficient array;
/// - the *flattened* multilevel layout used by the wavelet Transform: all
///   coefficient arrays of one signal raveled and concatenated in `wavedec`
///   order, plus the exact adjoint (transpose) of the inverse, which is what
///   the inverse graph node's backward needs. For biorthogonal wavelets and
///   for every mode except periodization with an orthogonal wavelet the
///   adjoint is *not* the forward transform; `waverec_flat_adjoint` is the
///   true transpose in all cases.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "trim/core/tensor.hpp"

namespace trim::kernels {

/// PyWavelets' signal-extension modes (`pywt.Modes`). For x of length N and
/// an index n outside [0, N): zero 0; constant the edge sample; symmetric
/// x[-1-k] = x[k] (half-sample, the default); reflect x[-k] = x[k]
/// (whole-sample; N = 1 is an error); periodic x[n mod N]; smooth linear
/// extrapolation of the two edge samples; antisymmetric x[-1-k] = -x[k];
/// antireflect x[-k] = 2x[0] - x[k] (N = 1 is an error); periodization: the
/// circular transform giving ceil(N/2) coefficients (odd N: the last sample
/// is repeated once first). Reflections iterate when the filter is longer
/// than the signal.
enum class DwtMode { Zero, Constant, Symmetric, Reflect, Periodic, Smooth, Antisymmetric, Antireflect, Periodization };

/// Parses a PyWavelets mode name ("symmetric", "periodization", ...).
/// Throws ValueError listing the valid names.
DwtMode dwt_mode(const std::string& name);
/// PyWavelets' name of a mode.
const char* dwt_mode_name(DwtMode mode);

/// A wavelet's filter bank, as `pywt.Wavelet(name).filter_bank`.
struct Wavelet {
  std::string name;    ///< "db4", "bior2.2", ...
  std::string family;  ///< PyWavelets' short family name: haar, db, sym, coif, bior, rbio, dmey
  bool orthogonal = false;
  bool biorthogonal = false;
  std::vector<double> dec_lo, dec_hi, rec_lo, rec_hi;  ///< all of even length length()
  int length() const { return static_cast<int>(dec_lo.size()); }
};

/// The wavelet named as in PyWavelets (`pywt.wavelist(kind='discrete')`):
/// haar, db1-db38, sym2-sym20, coif1-coif17, bior/rbio 1.1 1.3 1.5 2.2 2.4
/// 2.6 2.8 3.1 3.3 3.5 3.7 3.9 4.4 5.5 6.8, dmey. The reference stays valid
/// for the life of the program. Unknown names throw ValueError suggesting
/// the closest valid name.
const Wavelet& wavelet(const std::string& name);
/// All names, in `pywt.wavelist(kind='discrete')` order.
const std::vector<std::string>& wavelet_names();

/// Coefficients per level of a signal of length n (`pywt.dwt_coeff_len`):
/// floor((n + F - 1) / 2), or ceil(n / 2) for periodization.
int64_t dwt_coeff_len(int64_t n, int filter_len, DwtMode mode);
/// `pywt.dwt_max_level`: floor(log2(n / (F - 1))) with integer division; 0
/// when n < F - 1.
int dwt_max_level(int64_t n, int filter_len);
/// `pywt.swt_max_level`: how many times n can be halved evenly.
int swt_max_level(int64_t n);

// ---- PyWavelets-shaped interface ---------------------------------------------

/// Approximation and detail of one level.
struct DwtCoeffs {
  Tensor a, d;
};
/// `pywt.dwt` over the last axis: [..., n] -> a, d each [..., dwt_coeff_len(n)].
DwtCoeffs dwt(const Tensor& x, const Wavelet& w, DwtMode mode = DwtMode::Symmetric);
/// `pywt.idwt` over the last axis: a, d [..., m] -> [..., 2m - F + 2] (2m for
/// periodization). An empty tensor (numel 0) stands for None (zeros).
Tensor idwt(const Tensor& a, const Tensor& d, const Wavelet& w, DwtMode mode = DwtMode::Symmetric);

/// `pywt.wavedec` over the last axis: [cA_n, cD_n, ..., cD_1]. level < 0: the
/// maximum (`dwt_max_level`); levels above it are allowed up to 64 (PyWavelets
/// only warns); a negative level other than -1, or one above 64, throws ValueError.
std::vector<Tensor> wavedec(const Tensor& x, const Wavelet& w, DwtMode mode = DwtMode::Symmetric, int level = -1);
/// `pywt.waverec`: the output is as long as PyWavelets' (one sample longer
/// than the original signal when that was odd).
Tensor waverec(const std::vector<Tensor>& coeffs, const Wavelet& w, DwtMode mode = DwtMode::Symmetric);

/// Sub-bands of one 2-D level: a = 'aa', h = 'da' (detail along axis -2),
/// v = 'ad' (detail along axis -1), d = 'dd', as `pywt.dwt2`.
struct Dwt2Coeffs {
  Tensor a, h, v, d;
};
/// `pywt.dwt2` over the last two axes.
Dwt2Coeffs dwt2(const Tensor& x, const Wavelet& w, DwtMode mode = DwtMode::Symmetric);
/// `pywt.idwt2`; every array must have the same shape (none may be empty).
Tensor idwt2(const Dwt2Coeffs& c, const Wavelet& w, DwtMode mode = DwtMode::Symmetric);

/// Multilevel 2-D coefficients: `a` = cA_n and details[i] = (cH, cV, cD) of
/// level n - i (coarsest first), as `pywt.wavedec2` / `pywt.swt2(...,
/// trim_approx=True)`.
struct Wavedec2Coeffs {
  Tensor a;
  std::vector<std::array<Tensor, 3>> details;
};
/// `pywt.wavedec2` over the last two axes; level as in `wavedec` (the maximum
/// is the smaller of the two axes' maxima).
Wavedec2Coeffs wavedec2(const Tensor& x, const Wavelet& w, DwtMode mode = DwtMode::Symmetric, int level = -1);
/// `pywt.waverec2` (untrimmed output, as PyWavelets).
Tensor waverec2(const Wavedec2Coeffs& c, const Wavelet& w, DwtMode mode = DwtMode::Symmetric);

/// `pywt.swt(x, w, level, trim_approx=True)` over the last axis:
/// [cA_n, cD_n, ..., cD_1], each shaped like x. level < 0: `swt_max_level`.
/// Throws ValueError (as PyWavelets) when n is odd, level < 1 or
/// level > swt_max_level(n).
std::vector<Tensor> swt(const Tensor& x, const Wavelet& w, int level = -1);
/// `pywt.iswt` of [cA_n, cD_n, ..., cD_1] (all the same shape).
Tensor iswt(const std::vector<Tensor>& coeffs, const Wavelet& w);
/// `pywt.swt2(x, w, level, trim_approx=True)` over the last two axes; both
/// axes must be multiples of 2^level. level < 0: the largest allowed.
Wavedec2Coeffs swt2(const Tensor& x, const Wavelet& w, int level = -1);
/// `pywt.iswt2`.
Tensor iswt2(const Wavedec2Coeffs& c, const Wavelet& w);

// ---- Flattened multilevel layout -----------------------------------------------

/// One coefficient array inside the flattened layout of one signal.
struct WaveletBand {
  std::string name;            ///< "cA_3", "cH_2", "cV_2", "cD_1" (1-D: "cA_n", "cD_k")
  int level = 0;               ///< 1 = finest
  /// 'a' approximation, 'h', 'v', 'd' details (1-D: 'a' or 'd'; 3-D: '1'..'7',
  /// the index of the detail's wavedecn key 'aad'..'ddd', which is its name)
  char orientation = 'a';
  int64_t offset = 0;          ///< first element in the flattened coefficients
  std::vector<int64_t> shape;  ///< 1, 2 or 3 sizes
  int64_t size = 0;            ///< product of shape
};

/// Where every coefficient of a multilevel transform lives: the raveled
/// arrays concatenated in `wavedec` / `wavedec2` order (cA_n, cH_n, cV_n,
/// cD_n, ..., cH_1, cV_1, cD_1; 1-D: cA_n, cD_n, ..., cD_1; 3-D, as
/// `wavedecn`: cA_n, then per level from the coarsest the seven details in
/// key order aad, ada, add, daa, dad, dda, ddd, named "aad_k" etc.).
/// Stationary layouts use the same order, every array shaped like the input.
struct WaveletLayout {
  int dims = 1;                               ///< transformed trailing axes: 1, 2 or 3 (stationary: 1 or 2)
  bool stationary = false;                    ///< swt / swt2
  int level = 0;
  DwtMode mode = DwtMode::Symmetric;          ///< ignored when stationary (always circular)
  std::vector<std::vector<int64_t>> sizes;    ///< sizes[k]: array shape at level k; sizes[0] = input
  std::vector<WaveletBand> bands;             ///< flattened order
  int64_t size = 0;                           ///< coefficients per signal

  const std::vector<int64_t>& input() const { return sizes.front(); }
  int64_t input_size() const;
};

/// Builds the layout for signals of shape `input` (1, 2 or 3 sizes; 3 only
/// for the decimated transform). level < 0:
/// the maximum. Throws ValueError for a bad level (negative or above 64; for
/// stationary layouts also above `swt_max_level` or sizes not multiples of 2^level) and
/// for reflect / antireflect reaching a length-1 signal; `where` prefixes the
/// messages.
WaveletLayout wavelet_layout(const std::vector<int64_t>& input, const Wavelet& w, DwtMode mode, int level,
                             bool stationary, const std::string& where = "wavelet");

/// Multilevel analysis of `batch` contiguous signals x [batch, input...] into
/// c [batch, layout.size] (overwritten).
void wavedec_flat(const float* x, int64_t batch, const WaveletLayout& layout, const Wavelet& w, float* c);
/// Multilevel synthesis: c [batch, layout.size] -> x [batch, input...]
/// (overwritten; trimmed to the input size at every level as PyWavelets).
void waverec_flat(const float* c, int64_t batch, const WaveletLayout& layout, const Wavelet& w, float* x);
/// The exact transpose of `waverec_flat`: gx [batch, input...] ->
/// gc [batch, layout.size] (overwritten), so <waverec(c), g> = <c, adjoint(g)>.
void waverec_flat_adjoint(const float* gx, int64_t batch, const WaveletLayout& layout, const Wavelet& w,
                          float* gc);

namespace detail {
/// Row of the generated filter table (src/kernels/wavelet_filters.cpp).
struct WaveletTableEntry {
  const char* name;
  const char* family;
  int length;
  bool orthogonal;
  bool biorthogonal;
  const double* dec_lo;
  const double* rec_lo;  ///< nullptr: dec_lo reversed
};
const WaveletTableEntry* wavelet_table(std::size_t& count);
}  // namespace detail

}  // namespace trim::kernels
