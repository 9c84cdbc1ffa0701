#include "provenance.hpp"

#include <sys/stat.h>

#include <ctime>

#include "build_info.hpp"
#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"
#include "trim/io/sha256.hpp"

namespace trim::cli {

namespace {

io::Json build_json() {
  return io::Json::object()
      .set("buildtype", TRIM_BUILDTYPE)
      .set("compiler", TRIM_COMPILER)
      .set("native", TRIM_NATIVE == 1)
      .set("openmp", TRIM_OPENMP == 1)
      .set("plots", TRIM_PLOTS == 1);
}

/// Now in UTC, ISO 8601 ("2026-12-04T16:50:03Z").
std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

}  // namespace

std::string version_text() {
  std::string s = std::string("trim ") + TRIM_VERSION + "\n";
  s += std::string("build: ") + TRIM_BUILDTYPE + ", " + TRIM_COMPILER + (TRIM_NATIVE ? ", -march=native" : "") +
       (TRIM_OPENMP ? ", OpenMP" : ", no OpenMP") + (TRIM_PLOTS ? ", PLplot figures (png, svg, pdf)" : ", no figures") +
       "\n";
  s += "threads: " + std::to_string(num_threads()) + " by default (--threads N, OMP_NUM_THREADS)\n";
  return s;
}

io::Json trim_json() { return io::Json::object().set("version", TRIM_VERSION).set("build", build_json()); }

io::Json file_json(const std::string& role, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw IoError("cannot read '" + path + "' (" + role + ") for its SHA-256");
  return io::Json::object()
      .set("role", role)
      .set("path", path)
      .set("bytes", static_cast<long long>(st.st_size))
      .set("sha256", io::sha256_file(path));
}

io::Json provenance_json(const Args& args, const std::vector<std::pair<std::string, std::string>>& files,
                         io::Json settings) {
  io::Json command = io::Json::array();
  command.push("trim");
  command.push(args.command());
  for (const std::string& a : args.argv()) command.push(a);
  io::Json options = io::Json::object();
  for (const std::string& name : args.option_names()) {
    if (!args.has(name))
      options.set(name, nullptr);
    else if (args.get(name).empty())
      options.set(name, true);  // a flag
    else
      options.set(name, args.get(name));
  }
  io::Json list = io::Json::array();
  for (const auto& [role, path] : files) list.push(file_json(role, path));
  return io::Json::object()
      .set("trim", trim_json())
      .set("command_line", command)
      .set("options", options)
      .set("settings", std::move(settings))
      .set("files", list)
      .set("threads", num_threads())
      .set("date", utc_now());
}

}  // namespace trim::cli
