#pragma once
// How to reproduce a result: the trim version and build, the command line
// and every option, the files read (size and SHA-256), the thread count and
// the date. Written into every JSON result; `trim --version` prints the
// version and build.
#include <string>
#include <utility>
#include <vector>

#include "args.hpp"
#include "trim/io/json.hpp"

namespace trim::cli {

/// "trim 0.1.0" and a line describing the build (for --version).
std::string version_text();

/// {"version": ..., "build": {...}}.
io::Json trim_json();

/// {"role", "path", "bytes", "sha256"} of a file the result depends on.
io::Json file_json(const std::string& role, const std::string& path);

/// The "provenance" object of a JSON result. `files`: {role, path} of every
/// file read (model first); `settings`: the values the command actually used,
/// including defaults of options not given (e.g. "steps": 50), or null.
io::Json provenance_json(const Args& args, const std::vector<std::pair<std::string, std::string>>& files,
                         io::Json settings = nullptr);

}  // namespace trim::cli
