// Fuzz target: .npy file bytes -> header and array readers. The readers take
// a path, so the input goes through a file in /dev/shm (or /tmp).
#include <unistd.h>

#include <cstdio>

#include "fuzz_target.hpp"
#include "trim/io/npy.hpp"

namespace {

std::string scratch_path() {
  const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/trim-fuzz-npy-" + std::to_string(getpid()) + ".npy";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = scratch_path();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  trim::fuzz::expect_clean([&] { trim::io::read_npy_header(path); });
  trim::fuzz::expect_clean([&] { trim::io::read_npy(path); });
  trim::fuzz::expect_clean([&] { trim::io::read_npy_array(path); });
  std::remove(path.c_str());
  return 0;
}
