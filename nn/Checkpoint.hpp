// Why: long runs must survive interruption and resume exactly. A checkpoint is one file with a
// versioned binary header, a JSON description (config, step, seeds: whatever the trainer needs),
// named tensors (parameters, AdamW moments) and a CRC-32, written atomically. Loading verifies
// everything before any byte reaches a model, and every failure is a diffuser::Error naming the
// file and the problem. The format is specified in docs/nn.md ("Checkpoint format").
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nn/AdamW.hpp"
#include "nn/ParameterStore.hpp"

namespace diffuser::nn {

/// Element type of a stored tensor (always little-endian, row-major).
enum class DType : std::uint8_t { kF32, kF64, kI64, kU64 };

/// "f32", "f64", "i64", "u64".
std::string_view to_string(DType d);

/// Bytes per element: 4 or 8.
std::size_t dtype_size(DType d);

/// One named tensor of a checkpoint: raw little-endian bytes of `shape` (row-major).
struct CheckpointTensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  std::vector<std::byte> data;

  /// Product of shape (1 for a scalar, shape = {}).
  std::size_t numel() const;
};

/// A checkpoint in memory: free-form JSON metadata plus named tensors.
///
/// On disk (format version 1, all integers little-endian):
///   bytes  0.. 7  magic "DIFFCKPT"
///   bytes  8..11  u32 format version (1)
///   bytes 12..15  u32 reserved (0)
///   bytes 16..23  u64 H = header length in bytes
///   bytes 24..31  u64 P = payload length in bytes
///   32 .. 32+H    header: UTF-8 JSON {"format": "diffuser-checkpoint", "meta": {...},
///                 "tensors": [{"name", "dtype", "shape", "offset", "nbytes"}, ...]}
///   then P bytes  payload: tensor data back to back, in table order (offsets from payload start)
///   last 4 bytes  u32 CRC-32 (Crc32.hpp) of bytes 8 .. 32+H+P (everything but magic and CRC).
class Checkpoint {
 public:
  /// Format version written by this build; load_checkpoint accepts exactly this version.
  static constexpr std::uint32_t kVersion = 1;

  /// Caller's metadata (model config, step, seed, data position, ...). Must be a JSON object.
  nlohmann::json meta = nlohmann::json::object();

  /// Path the checkpoint was loaded from ("" when built in memory); used in error messages.
  std::string source;

  /// Adds tensor `name` (non-empty, unique) of `shape` with data (size = product of shape).
  /// T: float, double, std::int64_t or std::uint64_t.
  template <typename T>
  void add(const std::string& name, std::vector<std::int64_t> shape, std::span<const T> data);

  /// True when a tensor called `name` is present.
  bool contains(std::string_view name) const;

  /// The tensor called `name`; throws diffuser::Error naming the checkpoint and the tensor.
  const CheckpointTensor& tensor(std::string_view name) const;

  /// Copies tensor `name` into `out` after checking that its shape equals `expected_shape`
  /// (error names both shapes). f32 and f64 convert into either float type; integer tensors
  /// only into their own type.
  template <typename T>
  void read(std::string_view name, std::span<const std::int64_t> expected_shape,
            std::span<T> out) const;

  /// All tensors, in the order they were added (= file order).
  const std::vector<CheckpointTensor>& tensors() const { return tensors_; }

 private:
  friend Checkpoint load_checkpoint(const std::string& path);
  std::vector<CheckpointTensor> tensors_;
};

/// Writes `ckpt` to `path` atomically (temporary file, fsync, rename; core/AtomicFile.hpp).
void save_checkpoint(const std::string& path, const Checkpoint& ckpt);

/// Reads and verifies a checkpoint: size (truncation), magic, version, CRC-32 (bit flips), JSON
/// header, tensor table consistency. Throws diffuser::Error naming the path and the problem.
Checkpoint load_checkpoint(const std::string& path);

/// Adds every parameter of `store` as tensor "param/<name>" (dtype of T, the tensor's shape).
template <typename T>
void add_parameters(Checkpoint& ckpt, const ParameterStore<T>& store);

/// Restores every parameter of `store` from "param/<name>". All-or-nothing: first checks that
/// the checkpoint has each of the store's tensors with the same shape, finite values (after
/// conversion to T) and no "param/" tensor the store lacks (errors name the tensor and both
/// shapes, or the non-finite element), then copies.
template <typename T>
void restore_parameters(const Checkpoint& ckpt, ParameterStore<T>& store);

/// Adds AdamW's moments as "adam_m/<name>", "adam_v/<name>" (per parameter tensor) and
/// meta["adamw"] = {"step", "beta1", "beta2", "eps", "weight_decay"}.
template <typename T>
void add_optimizer_state(Checkpoint& ckpt, const ParameterStore<T>& store, const AdamW<T>& opt);

/// Restores AdamW's moments and step count written by add_optimizer_state (checked as in
/// restore_parameters, all-or-nothing; second moments must also be >= 0).
template <typename T>
void restore_optimizer_state(const Checkpoint& ckpt, const ParameterStore<T>& store, AdamW<T>& opt);

}  // namespace diffuser::nn
