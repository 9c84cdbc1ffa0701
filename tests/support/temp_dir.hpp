#pragma once
// A fresh directory for the files a test writes, removed at scope exit.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace trim::test {

struct TempDir {
  std::filesystem::path path;

  /// `tag` only makes the folder recognisable ("trim_test_<tag>_<pid>_<n>").
  explicit TempDir(const std::string& tag = "tmp") {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path() /
           ("trim_test_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path / name).string(); }

  /// Names of the entries in the folder (to prove a failed write left nothing behind).
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path)) names.push_back(e.path().filename().string());
    return names;
  }
};

}  // namespace trim::test
