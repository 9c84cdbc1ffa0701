#pragma once
// Writing a command's output files all-or-nothing: every file is first
// written under a temporary name next to its destination, and only when all
// of them are complete are they renamed into place. A run that fails at any
// point (including while writing its last figure) leaves none of its
// outputs behind.
#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "trim/core/tensor.hpp"
#include "trim/io/json.hpp"

namespace trim::cli {

class Outputs {
 public:
  Outputs() = default;
  Outputs(const Outputs&) = delete;
  Outputs& operator=(const Outputs&) = delete;
  /// Removes every staged file that was not committed.
  ~Outputs();

  /// Declares an output before any work is done: the folder must exist and be
  /// writable and the path must not be a folder (IoError naming the path),
  /// and no two outputs may share a path (UsageError). Empty paths are
  /// ignored, so optional outputs can be declared unconditionally.
  void declare(const std::string& path, const std::string& option);
  /// `declare` for a figure: UsageError unless the extension is .png, .svg
  /// or .pdf; IoError when trim cannot draw (built without PLplot's cairo
  /// driver), so a run fails before its work, not after.
  void declare_plot(const std::string& path, const std::string& option);

  /// Stages a float32 .npy file; the values must be finite (Error naming
  /// `what` otherwise: the method produced NaN or infinity).
  void npy(const std::string& path, const Tensor& t, const std::string& what);
  void json(const std::string& path, const io::Json& value);
  /// Stages a file written by `write(temporary_path)` (e.g. a plot or a
  /// dictionary written by the library).
  void file(const std::string& path, const std::function<void(const std::string&)>& write);

  /// Renames every staged file into place.
  void commit();

 private:
  std::string stage(const std::string& path);

  std::vector<std::string> declared_;
  std::vector<std::pair<std::string, std::string>> staged_;  // {temporary, destination}
};

}  // namespace trim::cli
