// Fuzz target: the `trim` tool's argument parser. The first byte picks a
// command; the rest, split at NUL bytes, is its argv. Every option's value is
// then read as the commands read them (integer, number, text) and the help is
// formatted.
#include <vector>

#include "../../src/cli/args.hpp"
#include "../../src/cli/commands.hpp"
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& commands = trim::cli::all_commands();
  if (size < 1 || commands.empty()) return 0;
  const auto& command = commands[data[0] % commands.size()];
  std::vector<std::string> argv(1);
  for (size_t k = 1; k < size; ++k) {
    if (data[k] == 0) argv.emplace_back();
    else argv.back() += static_cast<char>(data[k]);
  }
  return trim::fuzz::expect_clean([&] {
    const trim::cli::Args args = trim::cli::parse_args(command.spec, argv);
    for (const std::string& name : args.option_names()) {
      if (!args.has(name)) continue;
      trim::fuzz::expect_clean([&] { args.get_int(name, 0, -1000000, 1000000); });
      trim::fuzz::expect_clean([&] { args.get_double(name, 0.0, -1e9, 1e9); });
      args.get(name);
    }
    trim::cli::format_help(command.spec);
  });
}
