// Why: IDX parsing with every header field checked against the file's real size.
#include "experiments/data/IdxArray.hpp"

#include "core/Error.hpp"
#include "experiments/data/CompressedFile.hpp"

namespace diffuser::experiments {

IdxArray parse_idx(std::string_view bytes, const std::string& name) {
  auto byte = [&](std::size_t i) {
    return static_cast<unsigned>(static_cast<std::uint8_t>(bytes[i]));
  };
  DIFFUSER_CHECK(bytes.size() >= 4, "{}: not an IDX file: {} bytes, shorter than the header", name,
                 bytes.size());
  DIFFUSER_CHECK(byte(0) == 0 && byte(1) == 0,
                 "{}: not an IDX file: magic starts with 0x{:02x}{:02x}, expected 0x0000", name,
                 byte(0), byte(1));
  DIFFUSER_CHECK(byte(2) == 0x08,
                 "{}: IDX type code 0x{:02x} is not supported (only 0x08, unsigned byte)", name,
                 byte(2));
  const std::size_t rank = byte(3);
  DIFFUSER_CHECK(rank >= 1, "{}: IDX rank is 0", name);
  const std::size_t header = 4 + 4 * rank;
  DIFFUSER_CHECK(bytes.size() >= header, "{}: truncated IDX header ({} bytes, need {})", name,
                 bytes.size(), header);
  IdxArray array;
  std::int64_t total = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    const std::size_t at = 4 + 4 * d;
    const std::int64_t size = (static_cast<std::int64_t>(byte(at)) << 24) |
                              (static_cast<std::int64_t>(byte(at + 1)) << 16) |
                              (static_cast<std::int64_t>(byte(at + 2)) << 8) | byte(at + 3);
    array.dims.push_back(size);
    DIFFUSER_CHECK(size == 0 || total <= (std::int64_t{1} << 40) / size,
                   "{}: IDX dimensions too large", name);
    total *= size;
  }
  const auto have = static_cast<std::int64_t>(bytes.size() - header);
  DIFFUSER_CHECK(have >= total, "{}: truncated IDX file: header promises {} data bytes, found {}",
                 name, total, have);
  DIFFUSER_CHECK(have == total, "{}: {} unexpected bytes after the IDX data", name, have - total);
  array.data.assign(reinterpret_cast<const std::uint8_t*>(bytes.data() + header),
                    reinterpret_cast<const std::uint8_t*>(bytes.data() + bytes.size()));
  return array;
}

IdxArray read_idx(const std::string& path) { return parse_idx(read_compressed_file(path), path); }

}  // namespace diffuser::experiments
