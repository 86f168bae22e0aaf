#pragma once
/// @file
/// `run_lock`: one process at a time in a run directory. It holds an exclusive `flock` on
/// `<dir>/.lock` for its lifetime; the kernel releases it when the process ends, however it ends
/// (kill -9 included), so a stale file never blocks a later run. The file names the holder (process
/// id, host, start time), which the error of a refused second process quotes.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace cebm::train {

class run_lock {
 public:
  run_lock() = default;
  /// Takes the lock of `dir` (created if needed), or throws std::runtime_error naming the holder.
  explicit run_lock(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const std::string path = (dir / ".lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error(path + ": cannot open the run directory's lock (" + std::strerror(errno) + ")");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int why = errno;
      ::close(fd_);
      fd_ = -1;
      if (why != EWOULDBLOCK) throw std::runtime_error(path + ": cannot lock (" + std::strerror(why) + ")");
      std::ifstream in(path);
      std::string holder;
      std::getline(in, holder);
      throw std::runtime_error(dir.string() + ": the run directory is in use by " +
                               (holder.empty() ? std::string("another process") : holder) +
                               "; wait for it to finish or choose another --out");
    }
    char host[256] = "?";
    ::gethostname(host, sizeof host - 1);
    const std::time_t now = std::time(nullptr);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
    const std::string holder = "process " + std::to_string(::getpid()) + " on " + host + " (since " + when + ")\n";
    // Without the note the lock still holds; a refused process then says "another process".
    const bool noted = ::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, holder.data(), holder.size(), 0) == static_cast<ssize_t>(holder.size());
    (void)noted;
  }
  run_lock(const run_lock&) = delete;
  run_lock& operator=(const run_lock&) = delete;
  run_lock(run_lock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  run_lock& operator=(run_lock&& other) noexcept {
    if (this != &other) {
      release();
      fd_ = other.fd_;
      other.fd_ = -1;
    }
    return *this;
  }
  ~run_lock() { release(); }

  bool held() const { return fd_ >= 0; }
  void release() noexcept {
    if (fd_ >= 0) ::close(fd_);  // closing the only descriptor releases the flock
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

}  // namespace cebm::train
