// Why: a graph file can declare a node count out of all proportion to its size (a corrupt size
// line "2000000000 2000000000 0", one stray index "1999999999 0"); building that graph would
// allocate gigabytes of row offsets from a few bytes of input. The text readers check every
// declared size against the file size before allocating, with one rule written down here and
// in docs/reliability.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/Error.hpp"

namespace diffuser::graph {

/// Node counts up to this are accepted from any file (4 MiB of row offsets).
inline constexpr std::int64_t kReaderFreeNodes = std::int64_t{1} << 20;

/// Beyond kReaderFreeNodes, a file of B bytes may declare at most this many nodes per byte.
/// Every real token graph stores at least one edge (a self-loop, >= 4 bytes of text) per row,
/// so real files stay far below the limit.
inline constexpr std::int64_t kReaderNodesPerByte = 16;

/// Largest node count a graph file of `file_bytes` bytes may declare:
/// max(kReaderFreeNodes, kReaderNodesPerByte * file_bytes).
inline std::int64_t reader_node_limit(std::size_t file_bytes) {
  const auto scaled = static_cast<std::int64_t>(file_bytes) * kReaderNodesPerByte;
  return scaled > kReaderFreeNodes ? scaled : kReaderFreeNodes;
}

/// Throws diffuser::Error "<where>: <what> n = <n> is out of proportion to the <B>-byte file
/// ..." when n exceeds reader_node_limit(file_bytes). `where` is "file" or "file:line".
inline void check_reader_nodes(std::int64_t n, std::size_t file_bytes, const std::string& where,
                               const char* what) {
  const std::int64_t limit = reader_node_limit(file_bytes);
  DIFFUSER_CHECK(n <= limit,
                 "{}: {} n = {} is out of proportion to the {}-byte file (at most {} nodes, "
                 "max(2^20, 16 per byte), are accepted without edges to show for them): corrupt "
                 "size or index?",
                 where, what, n, file_bytes, limit);
}

}  // namespace diffuser::graph
