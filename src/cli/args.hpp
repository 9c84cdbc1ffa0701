#pragma once
// Command-line parsing for the `trim` tool: each command declares its
// positionals and options once (name, value placeholder, help), and the same
// table drives both the parser and `trim COMMAND --help`.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "trim/core/error.hpp"
#include "trim/core/text.hpp"

namespace trim::cli {

/// The command line itself is wrong (unknown option, bad number, unknown
/// method or spec, ...): exit status 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

struct OptionSpec {
  std::string name;     ///< long name without dashes, e.g. "target"
  std::string metavar;  ///< value placeholder, e.g. "K[,K...]"; empty for a flag
  std::string help;     ///< one or more sentences; wrapped when printed
  char short_name = 0;  ///< e.g. 'o' for -o
};

struct PositionalSpec {
  std::string name;  ///< e.g. "MODEL.onnx"
  std::string help;
};

struct CommandSpec {
  std::string name;     ///< e.g. "attribute"
  std::string summary;  ///< one line for `trim --help`
  std::string description;  ///< paragraphs for `trim COMMAND --help` ('\n\n' separated)
  std::vector<PositionalSpec> positionals;
  std::vector<OptionSpec> options;
  std::string examples;  ///< verbatim lines shown under "Examples:"
};

/// Parsed arguments of one command.
class Args {
 public:
  const std::string& positional(size_t i) const { return positionals_.at(i); }
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  /// The raw value of an option, or `fallback` when it was not given.
  std::string get(const std::string& name, const std::string& fallback = "") const;
  /// The value of an option the command cannot do without (UsageError when absent).
  const std::string& required(const std::string& name) const;
  /// Integer option in [min, max]; UsageError naming the option otherwise.
  int64_t get_int(const std::string& name, int64_t fallback, int64_t min, int64_t max) const;
  /// Finite floating-point option in [min, max].
  double get_double(const std::string& name, double fallback, double min, double max) const;
  bool help() const { return help_; }
  /// The command's name and the arguments after it, as given (provenance).
  const std::string& command() const { return command_; }
  const std::vector<std::string>& argv() const { return argv_; }
  /// Every option the command takes, in --help order.
  const std::vector<std::string>& option_names() const { return option_names_; }

 private:
  friend Args parse_args(const CommandSpec& spec, const std::vector<std::string>& argv);
  std::vector<std::string> positionals_;
  std::map<std::string, std::string> values_;  // flags hold ""
  bool help_ = false;
  std::string command_;
  std::vector<std::string> argv_, option_names_;
};

/// Parses the arguments after the command name. `--name value`,
/// `--name=value`, short forms (`-o FILE`) and `--` (end of options) are
/// accepted; an option given twice, an unknown option or a wrong number of
/// positionals is a UsageError. With -h/--help nothing else is checked.
Args parse_args(const CommandSpec& spec, const std::vector<std::string>& argv);

/// `trim COMMAND --help` text.
std::string format_help(const CommandSpec& spec);

// parse_int, parse_double and split: trim/core/text.hpp (the library's spec
// parsers use the same ones).
using trim::parse_double;
using trim::parse_int;
using trim::split;

}  // namespace trim::cli
