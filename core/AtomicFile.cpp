// Why: one place implements temp-file + fsync + rename so no writer does it differently.
#include "core/AtomicFile.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/Error.hpp"

namespace diffuser {

namespace {

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// A writer killed between open and rename leaves "<path>.tmp.<pid>" behind. After a successful
// write of `path`, remove such leftovers whose process no longer exists (kill(pid, 0) fails
// with ESRCH); a live process's temporary, or anything not named exactly so, is left alone.
// Best effort: errors are ignored (the leftover is harmless, nothing reads it).
void remove_stale_temporaries(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const std::string prefix = target.filename().string() + ".tmp.";
  std::error_code ec;
  fs::directory_iterator it(target.has_parent_path() ? target.parent_path() : fs::path("."), ec);
  if (ec) return;
  const pid_t self = ::getpid();
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return;
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto pid = static_cast<pid_t>(std::stol(digits));
    if (pid <= 0 || pid == self) continue;
    if (::kill(pid, 0) == -1 && errno == ESRCH) fs::remove(it->path(), ec);
  }
}

}  // namespace

void write_atomic(const std::string& path, const std::function<void(std::ostream&)>& writer) {
  DIFFUSER_CHECK(!path.empty(), "output path is empty");
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      fail("cannot write '{}': {}", path, std::strerror(errno));
    }
    try {
      writer(out);
      out.flush();
    } catch (...) {
      out.close();
      std::remove(tmp.c_str());
      throw;
    }
    if (!out) {
      out.close();
      std::remove(tmp.c_str());
      fail("cannot write '{}': write failed (disk full?)", path);
    }
  }
  fsync_path(tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    fail("cannot write '{}': rename failed: {}", path, std::strerror(err));
  }
  fsync_path(parent_dir(path));
  remove_stale_temporaries(path);
}

void write_text_atomic(const std::string& path, const std::string& text) {
  write_atomic(path, [&](std::ostream& out) {
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  });
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open '{}': {}", path, std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace diffuser
