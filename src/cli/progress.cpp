#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace trim::cli {

namespace {

using Seconds = std::chrono::duration<double>;
constexpr auto kRedraw = std::chrono::milliseconds(200);
constexpr int kBarWidth = 24;

/// A non-negative number of seconds from the environment, else `fallback`.
Seconds env_seconds(const char* name, double fallback) {
  const char* env = std::getenv(name);
  char* end = nullptr;
  const double seconds = env ? std::strtod(env, &end) : fallback;
  return Seconds(env && end != env && *end == '\0' && seconds >= 0 && std::isfinite(seconds) ? seconds : fallback);
}

}  // namespace

std::string duration_text(double s) {
  char buf[48];
  if (s < 10)
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  else if (s < 60)
    std::snprintf(buf, sizeof buf, "%.0f s", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%d min %02d s", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%d h %02d min", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
  return buf;
}

Progress::Progress(std::string label, std::string unit, bool quiet)
    : label_(std::move(label)), unit_(std::move(unit)) {
  if (quiet) return;
  mode_ = ::isatty(STDERR_FILENO) ? Mode::Terminal : Mode::Log;
  thread_ = std::thread([this] { loop(); });
}

Progress::~Progress() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::string Progress::status(double seconds, bool finished) const {
  const int64_t total = total_.load(), done = std::min(done_.load(), total > 0 ? total : done_.load());
  char buf[256];
  std::string counts = std::to_string(done) + "/" + (total > 0 ? std::to_string(total) : "?") + " " + unit_;
  if (total > 0) {
    std::snprintf(buf, sizeof buf, " (%.0f%%)", 100.0 * static_cast<double>(done) / static_cast<double>(total));
    counts += buf;
  }
  std::string timing;
  if (finished) {
    timing = "done in " + duration_text(seconds);
  } else {
    timing = duration_text(seconds);
    if (done > 0 && seconds > 0) {
      const double rate = static_cast<double>(done) / seconds;
      std::snprintf(buf, sizeof buf, rate >= 100 ? ", %.0f %s/s" : ", %.3g %s/s", rate, unit_.c_str());
      timing += buf;
      if (total > done) timing += ", about " + duration_text(static_cast<double>(total - done) / rate) + " left";
    }
  }
  if (mode_ == Mode::Log) return "trim " + label_ + ": " + counts + ", " + timing;
  const int filled = total > 0 ? static_cast<int>(kBarWidth * done / total) : 0;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kBarWidth, '.');
  return "trim " + label_ + " [" + bar + "] " + counts + "  " + timing;
}

void Progress::loop() {
  auto elapsed = [&] { return Seconds(std::chrono::steady_clock::now() - start_).count(); };
  std::unique_lock<std::mutex> lock(mutex_);
  if (mode_ == Mode::Log) {
    const Seconds interval = env_seconds("TRIM_PROGRESS_INTERVAL", 10.0);
    bool printed = false;
    while (!wake_.wait_for(lock, std::max(interval, Seconds(0.001)), [this] { return stop_; })) {
      std::fprintf(stderr, "%s\n", status(elapsed(), false).c_str());
      std::fflush(stderr);
      printed = true;
    }
    // A log that showed the run going shows it ending too, and so does one
    // whose run lasted an interval while this thread waited for a core.
    if ((printed || elapsed() >= interval.count()) && finished_)
      std::fprintf(stderr, "%s\n", status(elapsed(), true).c_str());
    std::fflush(stderr);
    return;
  }
  // A zero delay draws at once, even when the work is already over.
  const Seconds wait = env_seconds("TRIM_PROGRESS_DELAY", 1.0);
  if (wait.count() > 0 && wake_.wait_for(lock, wait, [this] { return stop_; })) return;
  while (true) {
    std::fprintf(stderr, "\r\033[K%s", status(elapsed(), false).c_str());
    std::fflush(stderr);
    if (wake_.wait_for(lock, kRedraw, [this] { return stop_; })) break;
  }
  // The final count, then erase the bar so that what follows on stderr
  // starts on a clean line.
  std::fprintf(stderr, "\r\033[K%s\r\033[K", status(elapsed(), false).c_str());
  std::fflush(stderr);
}

}  // namespace trim::cli
