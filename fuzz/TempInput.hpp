// Why: some readers only take a path (Config::load, read_listops_tsv, load_checkpoint), so their
// fuzz harnesses hand the fuzzer's bytes over through one reused file in /dev/shm (memory, not
// disk), named per process so parallel fuzzer jobs do not collide.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace diffuser::fuzz {

/// A scratch file "/dev/shm/diffuser-fuzz-<pid>-<tag>" (or $TMPDIR when /dev/shm is missing),
/// rewritten by every write() and removed when the object dies.
class TempInput {
 public:
  explicit TempInput(const std::string& tag) {
    const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    path_ = std::string(dir) + "/diffuser-fuzz-" + std::to_string(getpid()) + "-" + tag;
  }
  ~TempInput() { std::remove(path_.c_str()); }
  TempInput(const TempInput&) = delete;
  TempInput& operator=(const TempInput&) = delete;

  /// Replaces the file content with `size` bytes from `data`; returns the path. Aborts when the
  /// file cannot be written: that is a broken fuzzing setup, not a finding.
  const std::string& write(const std::uint8_t* data, std::size_t size) {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size) ||
        std::fclose(f) != 0) {
      std::perror(path_.c_str());
      std::abort();
    }
    return path_;
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace diffuser::fuzz
