// Why: MNIST and Fashion-MNIST ship in the IDX format (LeCun et al.'s MNIST page: a 4-byte
// magic 0, 0, type, rank; rank big-endian uint32 sizes; then the data, row-major). A small
// checked reader keeps malformed or truncated files from turning into silent garbage.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace diffuser::experiments {

/// An unsigned-byte IDX array: dims (outermost first) and the row-major data,
/// data.size() == product of dims.
struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> data;
};

/// Parses IDX bytes; `name` is used in error messages. Only type code 0x08 (unsigned byte) is
/// supported. Throws diffuser::Error on a bad magic, another type code, rank 0, or a data size
/// that does not match the header (truncated file or trailing bytes).
IdxArray parse_idx(std::string_view bytes, const std::string& name);

/// Reads an IDX file, gzip-compressed or plain (read_compressed_file), and parses it.
IdxArray read_idx(const std::string& path);

}  // namespace diffuser::experiments
