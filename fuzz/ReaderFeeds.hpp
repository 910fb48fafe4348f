// Why: how fuzzer bytes reach each file reader, written once. The libFuzzer harnesses
// (fuzz/fuzz_<reader>.cpp) and the regression test that replays stored crash inputs
// (tests/reliability/test_fuzz_regressions.cpp) call the same feed_<reader>() function, so a
// stored input means the same thing in both. A feed returns when the reader accepts the input,
// lets diffuser::Error through when it rejects it (the expected outcome), and traps when a
// result breaks the reader's own contract. Functions are inline: a harness links only the
// readers it uses.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/Error.hpp"
#include "core/Npy.hpp"
#include "experiments/config/Config.hpp"
#include "experiments/data/FashionMnist.hpp"
#include "experiments/data/IdxArray.hpp"
#include "experiments/data/ListOps.hpp"
#include "fuzz/TempInput.hpp"
#include "graph/EdgeList.hpp"
#include "graph/GraphExport.hpp"
#include "graph/MatrixMarket.hpp"
#include "nn/Checkpoint.hpp"
#include "nn/Crc32.hpp"

namespace diffuser::fuzz {

using Bytes = std::span<const std::uint8_t>;

inline std::string_view as_text(Bytes in) {
  return {reinterpret_cast<const char*>(in.data()), in.size()};
}

/// Whole input = a Matrix Market file (parsed in memory); the graph must validate.
inline void feed_matrix_market(Bytes in) {
  graph::parse_matrix_market(as_text(in), "fuzz.mtx").validate();
}

/// Whole input = an edge-list file (parsed in memory); the graph must validate.
inline void feed_edge_list(Bytes in) { graph::parse_edge_list(as_text(in), "fuzz.txt").validate(); }

/// Whole input = a .npy file: parsed in memory and converted element-wise; a 2-D array is also
/// read from a file as a dense adjacency matrix (graph::read_dense_npy).
inline void feed_npy(Bytes in) {
  static TempInput file("graph.npy");
  const auto array = parse_npy(std::as_bytes(in), "fuzz.npy");
  if (array.to_vector<double>().size() != static_cast<std::size_t>(array.numel())) {
    __builtin_trap();
  }
  if (array.shape.size() == 2) graph::read_dense_npy(file.write(in.data(), in.size())).validate();
}

/// Input = config JSON, optionally followed by a NUL byte and newline-separated `key=value`
/// overrides (Config::load from a file, as `--config` and `--set` do).
inline void feed_config(Bytes in) {
  static TempInput file("config.json");
  const std::string_view all = as_text(in);
  const auto nul = all.find('\0');
  const std::string_view json = all.substr(0, nul);
  std::vector<std::string> overrides;
  if (nul != std::string_view::npos) {
    std::string_view rest = all.substr(nul + 1);
    while (!rest.empty()) {
      const auto nl = rest.find('\n');
      overrides.emplace_back(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
  }
  const auto config = experiments::Config::load(
      file.write(reinterpret_cast<const std::uint8_t*>(json.data()), json.size()), overrides);
  (void)config.to_json().dump();
}

/// Input = one flag byte (bit 0: verify labels) + an LRA ListOps TSV file. A file that starts
/// with the gzip magic goes through read_listops_tsv (a file, experiments/CompressedFile); plain
/// text is parsed in memory (parse_listops_tsv, the same parser), which is ~50x faster under the
/// sanitizers than a file round trip with zlib's buffers.
inline void feed_listops_tsv(Bytes in) {
  static TempInput file("listops.tsv");
  if (in.empty()) fail("fuzz: empty input");
  experiments::ListOpsReadOptions options;
  options.verify_labels = (in[0] & 1) != 0;
  const Bytes content = in.subspan(1);
  if (content.size() >= 2 && content[0] == 0x1f && content[1] == 0x8b) {
    (void)experiments::read_listops_tsv(file.write(content.data(), content.size()), options).size();
  } else {
    (void)experiments::parse_listops_tsv(as_text(content), "fuzz.tsv", options).size();
  }
}

/// Input = a 2-byte little-endian length L, an IDX image file of L bytes, an IDX label file (the
/// rest). Both are parsed in memory (each array must hold exactly product(dims) bytes), then
/// loaded from files as an image classification set (experiments/FashionMnist.hpp).
inline void feed_idx(Bytes in) {
  static TempInput images_file("images.idx");
  static TempInput labels_file("labels.idx");
  if (in.size() < 2) fail("fuzz: input shorter than the 2-byte length prefix");
  const std::size_t image_len = std::min<std::size_t>(in[0] | (in[1] << 8), in.size() - 2);
  const Bytes images = in.subspan(2, image_len);
  const Bytes labels = in.subspan(2 + image_len);
  for (const Bytes part : {images, labels}) {
    const auto array = experiments::parse_idx(as_text(part), "fuzz.idx");
    std::int64_t total = 1;
    for (const auto d : array.dims) total *= d;
    if (static_cast<std::size_t>(total) != array.data.size()) __builtin_trap();
  }
  (void)experiments::load_idx_classification(images_file.write(images.data(), images.size()),
                                             labels_file.write(labels.data(), labels.size()), 10,
                                             "fuzz")
      .size();
}

/// Input = one flag byte + a checkpoint file. Random mutations almost never keep the CRC-32
/// valid, so when bit 0 of the flag is set the CRC (last 4 bytes, over bytes 8 .. end-4; see
/// nn/Checkpoint.hpp) is recomputed first: that lets the fuzzer reach the header and tensor-table
/// checks behind it. Every f32/f64 tensor is read back with its own shape.
inline void feed_checkpoint(Bytes in) {
  static TempInput file("ckpt.bin");
  if (in.empty()) fail("fuzz: empty input");
  std::vector<std::uint8_t> bytes(in.begin() + 1, in.end());
  if ((in[0] & 1) != 0 && bytes.size() >= 12) {
    const std::uint32_t crc =
        nn::crc32(std::as_bytes(std::span(bytes.data() + 8, bytes.size() - 12)));
    for (int b = 0; b < 4; ++b) {
      bytes[bytes.size() - 4 + b] = static_cast<std::uint8_t>(crc >> (8 * b));
    }
  }
  const auto ckpt = nn::load_checkpoint(file.write(bytes.data(), bytes.size()));
  for (const auto& t : ckpt.tensors()) {
    if (t.dtype == nn::DType::kF32 || t.dtype == nn::DType::kF64) {
      std::vector<double> out(t.numel());
      ckpt.read<double>(t.name, t.shape, out);
    }
  }
}

}  // namespace diffuser::fuzz
