#pragma once
// The attribution methods `trim attribute --method` offers: the library's
// table (trim/attribution/methods.hpp), looked up with a usage error.
#include <string>
#include <vector>

#include "trim/attribution/methods.hpp"

namespace trim::cli {

using Method = NamedMethod;

inline const std::vector<Method>& methods() { return attribution_methods(); }
/// UsageError listing the known names when `name` is not one.
const Method& find_method(const std::string& name);

}  // namespace trim::cli
