#pragma once
/// \file
/// NumPy `.npy` files: how inputs, coefficients, attributions and fitted
/// dictionaries travel between trim and Python.
///
/// Reading validates every header field (magic, version 1-3, dict keys,
/// dtype, fortran_order, shape) and checks the data length against the file
/// size before allocating; errors are IoError naming the file and the
/// problem. Writing goes to a temporary file renamed into place, so a failed
/// write never leaves a half-written file.

#include <cstdint>
#include <string>
#include <vector>

#include "trim/core/tensor.hpp"

namespace trim::io {

/// Element types trim reads (little endian or single byte).
enum class NpyType { Bool, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float32, Float64 };

/// Name as NumPy spells the descr, e.g. "<f4".
std::string npy_descr(NpyType type);

/// An array as stored, values widened to double (exact for float32 and for
/// integers up to 2^53; larger integers are rejected rather than rounded).
/// Fortran-order files are transposed into C order.
struct NpyArray {
  std::vector<int64_t> shape;
  NpyType type = NpyType::Float64;
  std::vector<double> values;  ///< row-major (C order)
};

/// Reads any supported .npy file.
NpyArray read_npy_array(const std::string& path);

/// Reads a .npy file as a float32 Tensor (rank 0-8; a 0-d array becomes
/// shape [1]). float64 values outside float32's range are an error, not inf.
Tensor read_npy(const std::string& path);

/// A validated .npy header: what a memory-mapped or chunked reader needs to
/// find element (i) without reading the data (dataset/ streams rows from it).
struct NpyHeader {
  std::vector<int64_t> shape;
  NpyType type = NpyType::Float64;
  int itemsize = 8;
  bool big_endian = false;
  bool fortran_order = false;
  uint64_t data_offset = 0;  ///< bytes before the first element
};

/// Reads and validates the header only (the data length must match the file
/// size exactly, as for read_npy_array); IoError naming the file otherwise.
NpyHeader read_npy_header(const std::string& path);

/// The header bytes (magic to the final newline, 64-byte aligned) of a
/// C-order array of `descr` (e.g. "<f4") and `shape`, for writers that fill
/// the data themselves.
std::string npy_header_bytes(const std::string& descr, const std::vector<int64_t>& shape);

/// Writes a float32 tensor as '<f4', C order, format version 1.0.
void write_npy(const std::string& path, const Tensor& t);

/// Writes doubles as '<f8' with the given shape (product must equal values.size()).
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<double>& values);

}  // namespace trim::io
