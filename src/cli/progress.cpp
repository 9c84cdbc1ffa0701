#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace trim::cli {

namespace {

constexpr auto kRedraw = std::chrono::milliseconds(200);
constexpr int kBarWidth = 30;

/// Runs shorter than this show no bar: 1 s, or TRIM_PROGRESS_DELAY seconds
/// (the tests set 0 to see the bar on a quick run, which then always draws).
std::chrono::duration<double> delay() {
  const char* env = std::getenv("TRIM_PROGRESS_DELAY");
  char* end = nullptr;
  const double seconds = env ? std::strtod(env, &end) : 1.0;
  return std::chrono::duration<double>(env && end != env && seconds >= 0 ? seconds : 1.0);
}

}  // namespace

Progress::Progress(std::string label, int64_t total, std::string unit, bool quiet)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total) {
  if (!quiet && total_ > 0 && ::isatty(STDERR_FILENO)) thread_ = std::thread([this] { loop(); });
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

void Progress::loop() {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  // A zero delay draws at once, even when the work is already over.
  const auto wait = delay();
  if (wait.count() > 0 && wake_.wait_for(lock, wait, [this] { return stop_; })) return;
  while (true) {
    draw(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (wake_.wait_for(lock, kRedraw, [this] { return stop_; })) break;
  }
  // Erase the bar so that what follows on stderr starts on a clean line.
  if (drawn_) std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

void Progress::draw(double seconds) {
  const int64_t done = std::min<int64_t>(done_.load(), total_);
  const int filled = static_cast<int>(kBarWidth * done / total_);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kBarWidth, '.');
  std::fprintf(stderr, "\r\033[Ktrim %s [%s] %lld/%lld %s  %.1f s", label_.c_str(), bar.c_str(),
               static_cast<long long>(done), static_cast<long long>(total_), unit_.c_str(), seconds);
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace trim::cli
