#pragma once
// Per-format constructors behind open_array / create_array (private to the library).

#include <memory>
#include <string>
#include <vector>

#include "trim/dataset/array.hpp"

namespace trim::dataset::detail {

std::unique_ptr<ArrayReader> open_npy(const ArraySpec& spec);
std::unique_ptr<ArrayWriter> create_npy(const ArraySpec& spec, const std::vector<int64_t>& shape,
                                        const WriterOptions& options);
std::unique_ptr<ArrayReader> open_hdf5(const ArraySpec& spec);
std::unique_ptr<ArrayWriter> create_hdf5(const ArraySpec& spec, const std::vector<int64_t>& shape,
                                         const WriterOptions& options);
std::unique_ptr<ArrayReader> open_fits(const ArraySpec& spec);

/// Product of shape[1:], checked: every dimension positive except a zero
/// example count, no overflow. `what` names the file for the message.
int64_t checked_row_size(const std::vector<int64_t>& shape, const std::string& what);

std::string shape_text(const std::vector<int64_t>& shape);

}  // namespace trim::dataset::detail
