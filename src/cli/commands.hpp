#pragma once
// The subcommands of `trim`. Each is described by its CommandSpec (which is
// also its --help) and a run function; main.cpp dispatches and turns
// exceptions into exit statuses.
#include <functional>
#include <vector>

#include "args.hpp"

namespace trim::cli {

struct Command {
  CommandSpec spec;
  std::function<void(const Args&)> run;  ///< throws UsageError (exit 2) or any other error (exit 1)
};

Command info_command();       // commands_model.cpp
Command predict_command();    // commands_model.cpp
Command transform_command();  // commands_transform.cpp
Command inverse_command();    // commands_transform.cpp
Command attribute_command();  // commands_attribute.cpp
Command sweep_command();      // commands_sweep.cpp
Command nmf_command();        // commands_nmf.cpp
Command evaluate_command();         // commands_evaluate.cpp
Command compare_methods_command();  // commands_evaluate.cpp

/// Every command, in the order `trim --help` lists them.
const std::vector<Command>& all_commands();

/// Options several commands share, with one wording.
OptionSpec output_option(const std::string& what);
OptionSpec quiet_option();
OptionSpec target_option();
/// --threads N: every command takes it (all_commands adds it).
OptionSpec threads_option();
/// MODEL.onnx INPUT.npy, as `attribute` and `sweep` take them.
std::vector<PositionalSpec> model_and_input();

}  // namespace trim::cli
