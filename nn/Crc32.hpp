// Why: checkpoints carry a checksum so a flipped bit or a torn write is detected on load instead
// of silently resuming from corrupted weights. CRC-32 (IEEE 802.3, the zlib/PNG polynomial)
// catches all burst errors up to 32 bits and is cheap; implemented here with a 256-entry table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace diffuser::nn {

/// CRC-32 with the reflected polynomial 0xEDB88320, initial value and final xor 0xFFFFFFFF (the
/// checksum of zlib, PNG and gzip; crc32("123456789") = 0xCBF43926). Incremental: pass the
/// previous result as `crc` to continue over a further block (start with 0).
std::uint32_t crc32(std::span<const std::byte> data, std::uint32_t crc = 0);

}  // namespace diffuser::nn
