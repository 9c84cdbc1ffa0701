// placeholder: being written (stubs so that callers link)
#include "trim/io/npy.hpp"

#include "trim/core/error.hpp"

namespace trim::io {
std::string npy_descr(NpyType) { throw IoError("npy: not implemented yet"); }
NpyArray read_npy_array(const std::string& path) { throw IoError("npy '" + path + "': reading not implemented yet"); }
Tensor read_npy(const std::string& path) { throw IoError("npy '" + path + "': reading not implemented yet"); }
void write_npy(const std::string& path, const Tensor&) { throw IoError("npy '" + path + "': writing not implemented yet"); }
void write_npy(const std::string& path, const std::vector<int64_t>&, const std::vector<double>&) {
  throw IoError("npy '" + path + "': writing not implemented yet");
}
}  // namespace trim::io
