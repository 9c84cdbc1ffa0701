#pragma once
// Reference values made by the scripts in tests/reference/ (NumPy, PyTorch,
// ...) and committed as small text fixtures, so the tests need no Python.
//
// Format (tests/reference/fixture.py writes it):
//   tensor <name> <rank> <dim0> ... <dimN-1>
//   <values, row-major, whitespace separated>
// Lines starting with '#' are comments.

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "trim/core/error.hpp"
#include "trim/core/tensor.hpp"

namespace trim::test {

/// Calls `read(name, dims, in)` for every tensor of the fixture at `path`;
/// `read` takes the tensor's values from `in`.
template <class Read>
void for_each_fixture_tensor(const std::string& path, Read read) {
  std::ifstream in(path);
  if (!in) throw IoError("fixture " + path + ": cannot open");
  std::string word;
  while (in >> word) {
    if (word[0] == '#') {
      std::getline(in, word);
      continue;
    }
    if (word != "tensor") throw IoError("fixture " + path + ": expected 'tensor', got '" + word + "'");
    std::string name;
    int rank = 0;
    in >> name >> rank;
    std::vector<int64_t> dims(static_cast<size_t>(std::max(rank, 0)));
    for (int64_t& d : dims) in >> d;
    if (!in) throw IoError("fixture " + path + ": bad header of tensor '" + name + "'");
    read(name, dims, in);
    if (!in) throw IoError("fixture " + path + ": truncated at tensor '" + name + "'");
  }
}

class Fixture {
 public:
  /// Loads tests/reference/data/<file>.
  explicit Fixture(const std::string& file) : path_(std::string(TRIM_FIXTURE_DIR) + "/" + file) {
    for_each_fixture_tensor(path_, [&](const std::string& name, const std::vector<int64_t>& dims, std::istream& in) {
      Tensor t{Shape(dims)};
      for (float& v : t) {
        std::string s;
        in >> s;
        // strtof, not stof: stof throws on subnormal values such as sigmoid(-100).
        char* end = nullptr;
        v = std::strtof(s.c_str(), &end);
        if (s.empty() || *end != '\0')
          throw IoError("fixture " + path_ + ": bad number '" + s + "' in tensor '" + name + "'");
      }
      tensors_[name] = std::move(t);
    });
  }

  const Tensor& operator[](const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) throw IoError("fixture " + path_ + ": no tensor '" + name + "'");
    return it->second;
  }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }

 private:
  std::string path_;
  std::map<std::string, Tensor> tensors_;
};

}  // namespace trim::test
