#pragma once
// Progress of a long run on stderr, counted in the method's own units of
// work (integration points × examples, groups × examples, coalitions, ...).
// On a terminal: a bar with the rate and the time left, redrawn by a
// background thread once the work has taken more than a second, erased at
// the end. Elsewhere (a log file, a pipe): one line every 10 seconds, and a
// last line when the run ends if any was printed. Nothing with --quiet.
// TRIM_PROGRESS_DELAY (seconds before the bar appears) and
// TRIM_PROGRESS_INTERVAL (seconds between log lines) override the defaults.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace trim::cli {

class Progress {
 public:
  /// `label`: what is being done ("integrated_gradients"); `unit`: what is
  /// counted ("integration points"). `quiet` disables all output.
  Progress(std::string label, std::string unit, bool quiet);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// `done` of `total` units are done (total 0: not known yet). Thread-safe.
  void update(int64_t done, int64_t total) {
    total_ = total;
    done_ = done;
  }
  /// The work ended successfully: a log that showed it going shows it ending.
  void finish() { finished_ = true; }

 private:
  enum class Mode { Off, Terminal, Log };
  void loop();
  std::string status(double seconds, bool finished) const;

  std::string label_, unit_;
  Mode mode_ = Mode::Off;
  std::atomic<int64_t> done_{0}, total_{0};
  std::atomic<bool> finished_{false};
  bool stop_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
  /// When the work started: the reporting thread may start late on a busy
  /// machine, its times still count from here.
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::thread thread_;
};

/// "12.3 s", "4 min 05 s", "2 h 03 min": a duration for people.
std::string duration_text(double seconds);

}  // namespace trim::cli
