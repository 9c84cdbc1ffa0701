#pragma once
/// \file
/// Data movement without arithmetic: axis permutation, concatenation,
/// strided slicing and constant padding, with their adjoints.
///
/// All of them are linear maps (padding with a non-zero value is affine),
/// so each backward is the transpose of the forward: the adjoint of a
/// permutation is the inverse permutation, of a concatenation the slices,
/// of a slice the scatter into zeros, of padding the crop. Backward
/// functions ADD (+=) into their destinations; forward functions overwrite.
/// Axes here are plain non-negative axes of the whole tensor (the batch
/// axis included); graph ops add the batch rules on top.

#include <array>
#include <cstdint>
#include <vector>

#include "trim/core/tensor.hpp"

namespace trim::kernels {

/// y = x with axes permuted as torch.permute: y.shape[k] = x.shape[perm[k]].
/// `perm` must be a permutation of 0..rank−1; `y` shaped; overwritten.
/// Cache-blocked when the innermost axis moves.
void transpose_forward(const Tensor& x, const std::vector<int>& perm, Tensor& y);
/// dx += dy permuted back by the inverse of `perm` (dy shaped like the forward's y).
void transpose_backward(const Tensor& dy, const std::vector<int>& perm, Tensor& dx);
/// The inverse permutation: inv[perm[k]] = k.
std::vector<int> inverse_permutation(const std::vector<int>& perm);

/// y = the inputs joined along `axis` (torch.cat); they agree on every other
/// axis. `y` shaped; overwritten.
void concat_forward(const std::vector<const Tensor*>& xs, int axis, Tensor& y);
/// dx_i += the part of dy belonging to input i, whose size along `axis` is
/// lengths[i] (= 0 + that part where overwrite[i] is nonzero: whatever dx_i
/// held is replaced). Null entries of `dxs` are skipped (their length still
/// counts).
void concat_backward(const Tensor& dy, int axis, const std::vector<int64_t>& lengths,
                     const std::vector<Tensor*>& dxs, const std::vector<char>& overwrite = {});

/// y[..., k, ...] = x[..., start + k·step, ...] along `axis` for
/// k < y.shape[axis]; start ≥ 0, step > 0, all indices inside x (the caller
/// resolved Python-style bounds). `y` shaped; overwritten.
void slice_forward(const Tensor& x, int axis, int64_t start, int64_t step, Tensor& y);
/// dx[..., start + k·step, ...] += dy[..., k, ...].
void slice_backward(const Tensor& dy, int axis, int64_t start, int64_t step, Tensor& dx);

/// {before, after} for every axis of the tensor, outermost first; both ≥ 0.
using PadWidths = std::vector<std::array<int64_t, 2>>;

/// y = x surrounded by `value`: y.shape[k] = before_k + x.shape[k] + after_k
/// (torch.nn.functional.pad with mode "constant"). `y` shaped; overwritten.
void pad_forward(const Tensor& x, const PadWidths& pads, float value, Tensor& y);
/// dx += the interior of dy (the crop that undoes pad_forward).
void pad_backward(const Tensor& dy, const PadWidths& pads, Tensor& dx);
/// y += c on every padding position of a padded tensor y, leaving the
/// interior (where x lands) untouched: the bias of padding with value c.
void pad_add_border(Tensor& y, const PadWidths& pads, float c);

}  // namespace trim::kernels
