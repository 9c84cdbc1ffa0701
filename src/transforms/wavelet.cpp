// placeholder: being written
#include "registry.hpp"
#include "trim/core/error.hpp"
namespace trim::detail {
std::shared_ptr<const Transform> make_wavelet_transform(const std::string& spec, const Shape&) {
  throw ValueError("transform '" + spec + "': wavelet transforms are not available yet");
}
}  // namespace trim::detail
