#include "outputs.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "args.hpp"
#include "inputs.hpp"
#include "trim/io/npy.hpp"
#include "trim/io/plot.hpp"

namespace trim::cli {

namespace {

std::string folder_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Outputs::~Outputs() {
  for (const auto& [tmp, dst] : staged_) std::remove(tmp.c_str());
}

void Outputs::declare(const std::string& path, const std::string& option) {
  if (path.empty()) return;
  if (std::find(declared_.begin(), declared_.end(), path) != declared_.end())
    throw UsageError(option + " '" + path + "': the same file is given for two outputs");
  const std::string folder = folder_of(path);
  struct stat st {};
  if (::stat(folder.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw IoError("cannot write '" + path + "': folder '" + folder + "' does not exist");
  if (::access(folder.c_str(), W_OK | X_OK) != 0)
    throw IoError("cannot write '" + path + "': folder '" + folder + "' is not writable (" + std::strerror(errno) +
                  ")");
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw IoError("cannot write '" + path + "': it is a folder");
  declared_.push_back(path);
}

void Outputs::declare_plot(const std::string& path, const std::string& option) {
  if (path.empty()) return;
  try {
    io::figure_format(path);
  } catch (const ValueError&) {
    throw UsageError(option + " '" + path + "': the extension picks the format; use .png, .svg or .pdf");
  }
  declare(path, option);
  if (!io::plotting_available())
    throw IoError(option + " '" + path + "': trim was built without PLplot's cairo driver (install libplplot-dev and "
                  "plplot-driver-cairo, then rebuild)");
}

std::string Outputs::stage(const std::string& path) {
  // The library writers are atomic themselves; this name only has to be
  // unique and in the destination's folder so the final rename stays atomic.
  // It keeps the extension, which tells the figure writer the format.
  const size_t slash = path.find_last_of('/'), dot = path.find_last_of('.');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash + 1);
  const std::string stem = has_ext ? path.substr(0, dot) : path, ext = has_ext ? path.substr(dot) : "";
  const std::string tmp =
      stem + ".trim-partial." + std::to_string(::getpid()) + "." + std::to_string(staged_.size()) + ext;
  staged_.emplace_back(tmp, path);
  return tmp;
}

void Outputs::npy(const std::string& path, const Tensor& t, const std::string& what) {
  require_finite(t, what, "nothing was written");
  file(path, [&](const std::string& tmp) { io::write_npy(tmp, t); });
}

void Outputs::json(const std::string& path, const io::Json& value) {
  file(path, [&](const std::string& tmp) { io::write_json(tmp, value); });
}

void Outputs::file(const std::string& path, const std::function<void(const std::string&)>& write) {
  const std::string tmp = stage(path);
  try {
    write(tmp);
  } catch (const IoError& e) {
    throw IoError("cannot write '" + path + "': " + e.what());
  }
}

void Outputs::commit() {
  for (const auto& [tmp, dst] : staged_)
    if (std::rename(tmp.c_str(), dst.c_str()) != 0)
      throw IoError("cannot write '" + dst + "': renaming the finished file into place failed (" +
                    std::strerror(errno) + ")");
  staged_.clear();
}

}  // namespace trim::cli
