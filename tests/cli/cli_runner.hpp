#pragma once
// Runs the built `trim` binary (TRIM_EXE) in a folder and captures its exit
// status, stdout and stderr, with a time limit so that a hang fails the test
// instead of stalling the suite.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace trim::test {

struct RunResult {
  int status = -1;  ///< exit status (-1: did not exit normally)
  std::string out, err;
  long max_rss_kib = 0;  ///< the child's peak resident set (getrusage's ru_maxrss)
};

struct RunOptions {
  /// Give the tool a pseudo-terminal as stderr (and TRIM_PROGRESS_DELAY=0),
  /// to see the progress bar.
  bool terminal_stderr = false;
  int timeout_seconds = 60;
  /// Extra environment variables for the tool (name, value).
  std::vector<std::pair<std::string, std::string>> env;
  /// A program that runs the tool, with its arguments (e.g. mpirun -np 2).
  std::vector<std::string> launcher;
};

/// Runs `trim args...` with `dir` as its working folder.
inline RunResult run_trim(const std::vector<std::string>& args, const std::string& dir, RunOptions options = {}) {
  int out_pipe[2], err_pipe[2];
  REQUIRE(::pipe(out_pipe) == 0);
  int err_read = -1, err_write = -1;
  if (options.terminal_stderr) {
    REQUIRE(::openpty(&err_read, &err_write, nullptr, nullptr, nullptr) == 0);
  } else {
    REQUIRE(::pipe(err_pipe) == 0);
    err_read = err_pipe[0], err_write = err_pipe[1];
  }
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::chdir(dir.c_str()) != 0) ::_exit(127);
    const int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_write, 2);
    ::close(out_pipe[0]);
    ::close(err_read);
    if (options.terminal_stderr) ::setenv("TRIM_PROGRESS_DELAY", "0", 1);
    else ::unsetenv("TRIM_PROGRESS_DELAY");
    ::unsetenv("TRIM_PROGRESS_INTERVAL");
    for (const auto& [name, value] : options.env) ::setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> argv;
    for (const std::string& a : options.launcher) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(const_cast<char*>(TRIM_EXE));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_write);
  RunResult r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.timeout_seconds);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_read, POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  while (open_fds > 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      FAIL("trim did not finish within " << options.timeout_seconds << " s");
    }
    if (::poll(fds, 2, 100) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {  // end of file (a pty reports EIO once the child is gone)
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  r.max_rss_kib = usage.ru_maxrss;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

/// True when `text` is exactly one line (one message, newline-terminated).
inline bool one_line(const std::string& text) {
  return !text.empty() && text.back() == '\n' && text.find('\n') == text.size() - 1;
}

/// A PNG file: the 8-byte signature followed by data.
inline bool is_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(8, '\0');
  if (!in.read(&head[0], 8)) return false;
  in.seekg(0, std::ios::end);
  return head == "\x89PNG\r\n\x1a\n" && in.tellg() > 100;
}

}  // namespace trim::test

namespace trim::test {

/// The whole file as a string ("" when it cannot be read).
inline std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// An SVG document: XML with an <svg> root element that is closed.
inline bool is_svg(const std::string& path) {
  const std::string s = file_text(path);
  const size_t root = s.find("<svg"), end = s.rfind("</svg>");
  return s.rfind("<?xml", 0) == 0 && root != std::string::npos && end != std::string::npos && end > root &&
         s.find("<path", root) != std::string::npos;
}

/// A PDF: the %PDF-1.x header, a page object, a cross-reference and %%EOF at the end.
inline bool is_pdf(const std::string& path) {
  const std::string s = file_text(path);
  const size_t eof = s.rfind("%%EOF");
  return s.rfind("%PDF-1.", 0) == 0 && s.find("/Type /Page") != std::string::npos &&
         s.find("startxref") != std::string::npos && eof != std::string::npos && s.size() - eof < 8;
}

}  // namespace trim::test
