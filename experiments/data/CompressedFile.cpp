// Why: zlib's gz* interface reads gzip and plain files alike ("transparent" mode); this wraps
// it with RAII and turns every zlib failure into a diffuser::Error naming the file.
#include "experiments/data/CompressedFile.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/Error.hpp"

namespace diffuser::experiments {

std::string read_compressed_file(const std::string& path) {
  std::error_code ec;
  DIFFUSER_CHECK(!std::filesystem::is_directory(path, ec), "cannot read '{}': is a directory",
                 path);
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) fail("cannot open '{}': {}", path, std::strerror(errno));
  struct Closer {
    gzFile f;
    ~Closer() { gzclose(f); }
  } closer{file};
  gzbuffer(file, 1 << 18);
  std::string out;
  constexpr unsigned kChunk = 1u << 20;
  for (;;) {
    const std::size_t old = out.size();
    out.resize(old + kChunk);
    const int got = gzread(file, out.data() + old, kChunk);
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file, &code);
      fail("cannot read '{}': {}", path,
           code == Z_ERRNO ? std::strerror(errno) : (message ? message : "zlib error"));
    }
    out.resize(old + static_cast<std::size_t>(got));
    if (got == 0) break;
  }
  int code = Z_OK;
  const char* message = gzerror(file, &code);
  if (code != Z_OK && code != Z_STREAM_END) {
    fail("cannot read '{}': corrupt or truncated compressed data ({})", path,
         message ? message : "zlib error");
  }
  return out;
}

}  // namespace diffuser::experiments
