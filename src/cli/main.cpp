// The `trim` command-line tool: dispatches to a subcommand and turns its
// outcome into an exit status with one message on stderr:
//   0 success, 2 usage error (the command line is wrong), 1 runtime error
//   (a file, the data or the model does not fit, or the run failed).
#include <cstdio>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.hpp"
#include "provenance.hpp"
#include "stream.hpp"
#include "trim/core/parallel.hpp"

namespace {

using trim::cli::all_commands;
using trim::cli::Command;

std::string top_help() {
  std::string s =
      "Usage: trim COMMAND [arguments] [options]\n\n"
      "Explains neural networks (ONNX models) in a transformed feature space: TRIM\n"
      "attributes f(T^-1(s) + r) to the coefficients s = T(x) of a transform T\n"
      "(Fourier, DCT, wavelets, NMF, PCA, any linear dictionary). Arrays are NumPy\n"
      ".npy files.\n\nCommands:\n";
  for (const Command& c : all_commands()) {
    std::string name = "  " + c.spec.name;
    name.resize(13, ' ');
    s += name + c.spec.summary + "\n";
  }
  s +=
      "\n'trim COMMAND --help' documents each command's options; docs/cli.md has\n"
      "worked examples. Every command takes --threads N. 'trim --version' shows the\n"
      "version and build. Exit status: 0 success, 2 usage error, 1 runtime error,\n"
      "with one message on stderr.\n";
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const trim::cli::ProcessGroup processes(&argc, &argv);  // MPI, when launched by mpirun
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fprintf(stderr, "trim: missing COMMAND (see 'trim --help')\n");
    return 2;
  }
  if (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::fputs(top_help().c_str(), stdout);
    return 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::fputs(trim::cli::version_text().c_str(), stdout);
    return 0;
  }
  const Command* command = nullptr;
  for (const Command& c : all_commands())
    if (c.spec.name == args[0]) command = &c;
  if (!command) {
    std::fprintf(stderr, "trim: unknown command '%s' (see 'trim --help')\n", args[0].c_str());
    return 2;
  }
  const std::string prefix = "trim " + command->spec.name + ": ";
  try {
    const trim::cli::Args parsed = trim::cli::parse_args(command->spec, {args.begin() + 1, args.end()});
    if (parsed.help()) {
      std::fputs(trim::cli::format_help(command->spec).c_str(), stdout);
      return 0;
    }
    if (parsed.has("threads")) trim::set_num_threads(static_cast<int>(parsed.get_int("threads", 0, 1, 4096)));
    command->run(parsed);
    return 0;
  } catch (const trim::cli::UsageError& e) {
    return trim::cli::report_error(prefix, e, 2);
  } catch (const std::bad_alloc&) {
    return trim::cli::report_error(prefix, std::runtime_error("out of memory (try a smaller batch or --chunk)"), 1);
  } catch (const std::exception& e) {
    return trim::cli::report_error(prefix, e, 1);
  }
}
