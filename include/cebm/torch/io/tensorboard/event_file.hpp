#pragma once
/// @file
/// `event_file`: a TensorBoard event file (`events.out.tfevents.<seconds>.<host>.<pid>.<n>`), the
/// TFRecord container of serialised `Event` messages (tensorboard/compat/proto/event.proto):
///
///   record = uint64 length (little-endian) · uint32 masked_crc32c(length's 8 bytes)
///            · the Event's bytes · uint32 masked_crc32c(the Event's bytes)
///   Event  = wall_time (1, double) · step (2, int64) · one of file_version (3, string),
///            summary (5, Summary), session_log (7, SessionLog{status (1): START = 1})
///
/// The first record is the file version "brain.Event:2". Each record is written with one write and
/// flushed, so a killed process leaves every record before the one it was writing whole, and
/// TensorBoard reads up to there.
///
/// A run that goes back to an earlier step (a resume from a checkpoint, a rollback) calls
/// `keep_steps_up_to(logdir, step)`, which rewrites the event files there without the records of
/// later steps and without a cut-off last record (each file replaced atomically), then writes
/// `session_start(step + 1)` in its new file: the SessionLog START record after which TensorBoard
/// forgets anything logged at that step or later, for readers that see older files first.
///
/// A new file's name sorts after every event file already in the folder (its seconds are moved
/// past theirs if need be), since TensorBoard reads a folder's event files in name order.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cebm/torch/io/atomic_file.hpp"
#include "cebm/torch/io/tensorboard/crc32c.hpp"
#include "cebm/torch/io/tensorboard/detail/protobuf.hpp"

namespace cebm::tensorboard {

/// One record of an event file: the step of its Event and the Event's bytes.
struct event_record {
  std::int64_t step = 0;
  std::string event;
};

namespace detail {
inline constexpr std::string_view event_file_prefix = "events.out.tfevents.";

inline void put_u64_le(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
inline void put_u32_le(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
inline std::uint64_t get_le(std::string_view b, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(b[at + i])) << (8 * i);
  return v;
}

/// The TFRecord framing of one Event.
inline std::string framed(const std::string& event) {
  std::string record;
  record.reserve(event.size() + 16);
  put_u64_le(record, event.size());
  put_u32_le(record, masked_crc32c(record.data(), 8));
  record += event;
  put_u32_le(record, masked_crc32c(event));
  return record;
}

/// The step of an Event's bytes (0 when it has none).
inline std::int64_t event_step(std::string_view event) {
  proto_reader r(event);
  while (r.next())
    if (r.field() == 2 && r.wire_type() == 0) return r.int64();
  return 0;
}

/// The seconds in an event file's name (0 if it has none).
inline std::int64_t name_seconds(const std::string& name) {
  if (name.rfind(event_file_prefix, 0) != 0) return 0;
  const std::string rest = name.substr(event_file_prefix.size());
  const std::size_t dot = rest.find('.');
  const std::string digits = rest.substr(0, dot);
  if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stoll(digits);
}

inline double wall_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace detail

/// The event files in `logdir`, in name order (the order TensorBoard reads them).
inline std::vector<std::string> event_files(const std::string& logdir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(logdir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(detail::event_file_prefix, 0) == 0 && entry.path().extension() != ".tmp" && entry.is_regular_file(ec))
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// The whole records of the event file at `path`, in order. Reading stops at a record cut short or
/// failing its CRC (what a process killed while writing leaves); `whole_bytes`, when given, gets
/// the length of the file's whole records. A file that cannot be read is refused by name.
inline std::vector<event_record> read_event_records(const std::string& path, std::size_t* whole_bytes = nullptr) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the event file (" + std::strerror(errno) + ")");
  const std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<event_record> records;
  std::size_t at = 0;
  while (b.size() - at >= 12) {
    const std::uint64_t n = detail::get_le(b, at, 8);
    if (detail::get_le(b, at + 8, 4) != masked_crc32c(b.data() + at, 8) || n > b.size() - at - 16) break;
    const std::string_view event(b.data() + at + 12, static_cast<std::size_t>(n));
    if (detail::get_le(b, at + 12 + n, 4) != masked_crc32c(event)) break;
    std::int64_t step = 0;
    try {
      step = detail::event_step(event);
    } catch (const std::runtime_error&) {
      break;  // a record whose CRC holds but whose Event does not parse: not one of ours
    }
    records.push_back({step, std::string(event)});
    at += 16 + static_cast<std::size_t>(n);
  }
  if (whole_bytes) *whole_bytes = at;
  return records;
}

class event_file {
 public:
  event_file() = default;

  /// A new event file in `logdir` (created if need be), starting with the file-version record.
  explicit event_file(const std::string& logdir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(logdir, ec);
    if (ec) throw std::runtime_error(logdir + ": cannot create the folder for TensorBoard's event files (" + ec.message() + ")");
    std::int64_t seconds = static_cast<std::int64_t>(detail::wall_time());
    for (const auto& f : event_files(logdir)) seconds = std::max(seconds, detail::name_seconds(fs::path(f).filename().string()) + 1);
    char host[256] = "localhost";
    if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
    host[sizeof host - 1] = '\0';
    for (int n = 0; !file_; ++n) {
      path_ = (fs::path(logdir) / (std::string(detail::event_file_prefix) + std::to_string(seconds) + "." + host + "." +
                                   std::to_string(::getpid()) + "." + std::to_string(n)))
                  .string();
      file_.reset(std::fopen(path_.c_str(), "wbx"));  // x: never an existing file
      if (!file_ && errno != EEXIST)
        throw std::runtime_error(path_ + ": cannot create the TensorBoard event file (" + std::strerror(errno) + ")");
    }
    detail::proto_writer version;
    version.double_(1, detail::wall_time()).bytes(3, "brain.Event:2");
    write_event(version.str());
  }

  const std::string& path() const { return path_; }
  bool is_open() const { return static_cast<bool>(file_); }

  /// One Event at `step` holding a Summary of these values (see summaries.hpp).
  void write_summary(std::int64_t step, const std::vector<std::string>& values) {
    detail::proto_writer summary;
    for (const auto& v : values) summary.bytes(1, v);
    detail::proto_writer event;
    event.double_(1, detail::wall_time()).int64(2, step).message(5, summary);
    write_event(event.str());
  }
  void write_summary(std::int64_t step, const std::string& value) { write_summary(step, std::vector<std::string>{value}); }

  /// SessionLog START at `step`: TensorBoard drops what earlier records logged at `step` or later.
  void session_start(std::int64_t step) {
    detail::proto_writer session, event;
    session.varint(1, 1);
    event.double_(1, detail::wall_time()).int64(2, step).message(7, session);
    write_event(event.str());
  }

  /// Rewrites every event file in `logdir` without the records of steps after `last` and without
  /// a cut-off last record; a file that needs no change is left as it is.
  static void keep_steps_up_to(const std::string& logdir, std::int64_t last) {
    for (const auto& f : event_files(logdir)) {
      std::size_t whole = 0;
      const std::vector<event_record> records = read_event_records(f, &whole);
      std::error_code ec;
      bool changed = whole != std::filesystem::file_size(f, ec);
      std::string kept;
      for (const auto& r : records) {
        if (r.step > last) {
          changed = true;
          continue;
        }
        kept += detail::framed(r.event);
      }
      if (changed) train::replace_file(f, kept, "the TensorBoard event file");
    }
  }

 private:
  struct closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };

  void write_event(const std::string& event) {
    if (!file_) throw std::logic_error("cebm::tensorboard::event_file: write to a closed event file");
    const std::string record = detail::framed(event);
    if (std::fwrite(record.data(), 1, record.size(), file_.get()) != record.size() || std::fflush(file_.get()) != 0)
      throw std::runtime_error(path_ + ": cannot write the TensorBoard event file (" + std::strerror(errno) + ")");
  }

  std::string path_;
  std::unique_ptr<std::FILE, closer> file_;
};

}  // namespace cebm::tensorboard
