#pragma once
// Internal: the rows of the transform family table (transform_families())
// that each implementation file contributes, so the table in transform.cpp
// is the only place that lists them.
#include <vector>

#include "trim/transforms/transform.hpp"

namespace trim::detail {

/// fft1-3, rfft1-3, dct1-3, with :polar for fft / rfft (fourier.cpp, polar.cpp).
void add_fourier_families(std::vector<TransformFamily>& table);
/// dwt1, dwt2, swt1, swt2 (wavelet.cpp).
void add_wavelet_families(std::vector<TransformFamily>& table);
/// nmf, pca, dict (dictionary.cpp).
void add_dictionary_families(std::vector<TransformFamily>& table);
/// decoder (decoder.cpp).
void add_decoder_families(std::vector<TransformFamily>& table);

/// stft (stft.cpp).
void add_stft_family(std::vector<TransformFamily>& table);

/// ShapeError "coefficients [..] have too few axes for 'spec'" unless
/// `coefficients` has at least `rank` axes: the families' signal_shape check.
void require_coefficient_rank(const Shape& coefficients, int rank, const std::string& spec);

}  // namespace trim::detail
