#include "args.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace trim::cli {

namespace {

const OptionSpec* find_long(const CommandSpec& spec, const std::string& name) {
  for (const OptionSpec& o : spec.options)
    if (o.name == name) return &o;
  return nullptr;
}

const OptionSpec* find_short(const CommandSpec& spec, char c) {
  for (const OptionSpec& o : spec.options)
    if (o.short_name != 0 && o.short_name == c) return &o;
  return nullptr;
}

std::string option_label(const OptionSpec& o) {
  std::string s = o.short_name ? std::string("-") + o.short_name + ", " : "    ";
  s += "--" + o.name;
  if (!o.metavar.empty()) s += " " + o.metavar;
  return s;
}

/// Appends `text` wrapped to `width` columns, every line indented by `indent`
/// spaces except the first, which continues at column `first_column`.
void wrap(std::string& out, const std::string& text, size_t indent, size_t first_column, size_t width = 80) {
  size_t column = first_column;
  std::istringstream words(text);
  std::string word;
  bool first = true;
  while (words >> word) {
    if (!first && column + 1 + word.size() > width) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
    } else if (!first) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    first = false;
  }
  out += '\n';
}

std::string usage_line(const CommandSpec& spec) {
  std::string s = "trim " + spec.name;
  for (const PositionalSpec& p : spec.positionals) s += " " + p.name;
  if (!spec.options.empty()) s += " [options]";
  return s;
}

}  // namespace

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

const std::string& Args::required(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw UsageError("missing option --" + name);
  if (it->second.empty()) throw UsageError("option --" + name + " needs a value");
  return it->second;
}

int64_t Args::get_int(const std::string& name, int64_t fallback, int64_t min, int64_t max) const {
  if (!has(name)) return fallback;
  const std::optional<int64_t> v = parse_int(get(name));
  if (!v || *v < min || *v > max)
    throw UsageError("--" + name + " '" + get(name) + "': expected an integer in [" + std::to_string(min) + ", " +
                     std::to_string(max) + "]");
  return *v;
}

double Args::get_double(const std::string& name, double fallback, double min, double max) const {
  if (!has(name)) return fallback;
  const std::optional<double> v = parse_double(get(name));
  if (!v || *v < min || *v > max) {
    std::ostringstream range;
    range << "[" << min << ", " << max << "]";
    throw UsageError("--" + name + " '" + get(name) + "': expected a number in " + range.str());
  }
  return *v;
}

Args parse_args(const CommandSpec& spec, const std::vector<std::string>& argv) {
  Args args;
  args.command_ = spec.name;
  args.argv_ = argv;
  for (const OptionSpec& o : spec.options) args.option_names_.push_back(o.name);
  for (const std::string& a : argv)
    if (a == "-h" || a == "--help") {
      args.help_ = true;
      return args;
    }
  bool options_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (options_done || a.size() < 2 || a[0] != '-' || (a[1] != '-' && parse_double(a))) {
      args.positionals_.push_back(a);  // a negative number is a value, not an option
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    const OptionSpec* o = nullptr;
    std::optional<std::string> inline_value;
    if (a[1] == '-') {
      const size_t eq = a.find('=');
      const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      if (eq != std::string::npos) inline_value = a.substr(eq + 1);
      o = find_long(spec, name);
      if (!o) throw UsageError("unknown option '--" + name + "' (see 'trim " + spec.name + " --help')");
    } else {
      if (a.size() != 2) throw UsageError("unknown option '" + a + "' (see 'trim " + spec.name + " --help')");
      o = find_short(spec, a[1]);
      if (!o) throw UsageError("unknown option '" + a + "' (see 'trim " + spec.name + " --help')");
    }
    if (args.values_.count(o->name)) throw UsageError("option --" + o->name + " is given more than once");
    if (o->metavar.empty()) {
      if (inline_value) throw UsageError("option --" + o->name + " takes no value");
      args.values_[o->name] = "";
    } else if (inline_value) {
      args.values_[o->name] = *inline_value;
    } else {
      if (i + 1 >= argv.size()) throw UsageError("option --" + o->name + " needs a value (" + o->metavar + ")");
      args.values_[o->name] = argv[++i];
    }
  }
  const size_t want = spec.positionals.size();
  if (args.positionals_.size() < want)
    throw UsageError("missing " + spec.positionals[args.positionals_.size()].name + " (usage: " + usage_line(spec) +
                     ")");
  if (args.positionals_.size() > want)
    throw UsageError("unexpected argument '" + args.positionals_[want] + "' (usage: " + usage_line(spec) + ")");
  return args;
}

std::string format_help(const CommandSpec& spec) {
  std::string out = "Usage: " + usage_line(spec) + "\n\n";
  for (const std::string& paragraph : split(spec.description, '\n')) {
    if (paragraph.empty() || paragraph[0] == ' ')  // blank, or a preformatted (indented) line
      out += paragraph + '\n';
    else
      wrap(out, paragraph, 0, 0);
  }
  if (!spec.positionals.empty()) {
    out += "\nArguments:\n";
    for (const PositionalSpec& p : spec.positionals) {
      std::string label = "  " + p.name;
      if (label.size() < 24) label.resize(24, ' ');
      else label += "\n" + std::string(24, ' ');
      out += label;
      wrap(out, p.help, 24, 24);
    }
  }
  if (!spec.options.empty()) {
    out += "\nOptions:\n";
    for (const OptionSpec& o : spec.options) {
      out += "  " + option_label(o) + "\n" + std::string(8, ' ');
      wrap(out, o.help, 8, 8);
    }
  }
  out += "  -h, --help\n        Show this help and exit.\n";
  if (!spec.examples.empty()) out += "\nExamples:\n" + spec.examples;
  return out;
}

}  // namespace trim::cli
