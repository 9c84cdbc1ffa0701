#pragma once
// A progress bar on stderr for long runs. It appears only when stderr is a
// terminal, the run was not started with --quiet, and the work has taken
// more than a second, so short runs, pipes and log files never see it. A
// background thread redraws it (so it also moves while one long chunk of
// work runs), and it is erased when the work ends.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace trim::cli {

class Progress {
 public:
  /// `label`: what is being done ("integrated_gradients"); `total`: units of
  /// work (`unit`, e.g. "examples"). `quiet` disables the bar.
  Progress(std::string label, int64_t total, std::string unit, bool quiet);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// `n` more units are done.
  void advance(int64_t n) { done_ += n; }

 private:
  void loop();
  void draw(double seconds);

  std::string label_, unit_;
  int64_t total_;
  std::atomic<int64_t> done_{0};
  bool drawn_ = false;
  bool stop_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace trim::cli
