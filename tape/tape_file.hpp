#pragma once

// Tape files: a writer with bounded size and rotation (the recorder's), and
// a loader that reads one or several files as one tape (replay's).
//
// Rotation: when the next record would take the file past
// `max_file_bytes`, FILE becomes FILE.1, FILE.1 becomes FILE.2, and so on;
// the oldest beyond `max_files` is deleted. Every file starts with the
// header, so each reads alone; a connection that spans a rotation replays
// whole only when the files are given in order (FILE.2 FILE.1 FILE).

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "tape/tape.hpp"

namespace athanor {

struct tape_file_options {
  std::string path;
  uint64_t max_file_bytes = uint64_t{1} << 30;
  uint32_t max_files = 4;
};

class tape_file_writer {
 public:
  explicit tape_file_writer(tape_file_options opts);
  ~tape_file_writer();

  tape_file_writer(const tape_file_writer&) = delete;
  tape_file_writer& operator=(const tape_file_writer&) = delete;

  /// Creates (truncates) the file; an error message, or "" when open.
  std::string open();

  /// Appends one record, rotating first if it would not fit; an error
  /// message or "". Records are buffered until flush() or 1 MiB.
  std::string write(const tape_event& x);

  /// Writes what is buffered; an error message or "".
  std::string flush();

  void close();

  /// Bytes in the current file, buffered ones included.
  uint64_t file_bytes() const {
    return file_bytes_;
  }

  /// Bytes written over every file, headers included.
  uint64_t bytes_total() const {
    return bytes_total_;
  }

  uint64_t rotations() const {
    return rotations_;
  }

 private:
  std::string rotate();

  tape_file_options opts_;
  std::FILE* file_ = nullptr;
  std::string buffer_;
  std::string record_;
  uint64_t file_bytes_ = 0;
  uint64_t bytes_total_ = 0;
  uint64_t rotations_ = 0;
};

/// A tape read from files.
struct loaded_tape {
  std::vector<tape_event> events;
  /// "FILE: byte N: why" where reading stopped early; the events before it
  /// are kept.
  std::optional<std::string> problem;
};

/// Reads `paths` in order as one tape; stops at the first problem.
loaded_tape load_tape_files(const std::vector<std::string>& paths);

} // namespace athanor
