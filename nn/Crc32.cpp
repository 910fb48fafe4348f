// Why: the table-driven CRC-32 (one table lookup per byte; the table is built at compile time
// from the polynomial, bit by bit, as in the standard's shift-register description).
#include "nn/Crc32.hpp"

#include <array>

namespace diffuser::nn {

namespace {

constexpr std::uint32_t kPolynomial = 0xEDB88320u;

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t r = i;
    for (int bit = 0; bit < 8; ++bit) r = (r & 1u) ? (r >> 1) ^ kPolynomial : r >> 1;
    table[i] = r;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kTable = make_table();

}  // namespace

std::uint32_t crc32(std::span<const std::byte> data, std::uint32_t crc) {
  std::uint32_t r = ~crc;
  for (const std::byte b : data) {
    r = kTable[(r ^ static_cast<std::uint32_t>(b)) & 0xFFu] ^ (r >> 8);
  }
  return ~r;
}

}  // namespace diffuser::nn
