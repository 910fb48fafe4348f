// Why: the optimiser, gradient clipping, checkpoints and gradient checks all want to treat a
// model's parameters as one flat vector (llm.c style), while layers want named, shaped tensors.
// ParameterStore owns one contiguous value buffer and one gradient buffer of the same layout,
// plus a table of named views (name, shape, offset) into both.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "core/Error.hpp"
#include "core/MemoryBudget.hpp"

namespace diffuser::nn {

/// What a parameter tensor is. AdamW uses the kind to decide whether weight decay applies
/// (by default only kWeight decays; see AdamWConfig).
enum class ParamKind { kWeight, kBias, kNorm, kEmbedding };

/// "weight", "bias", "norm", "embedding".
std::string_view to_string(ParamKind kind);

/// A named view into the flat buffers: elements [offset, offset + size) hold the tensor in
/// row-major order of `shape` (size = product of shape).
struct TensorInfo {
  std::string name;
  std::vector<std::int64_t> shape;
  std::size_t offset = 0;
  std::size_t size = 0;
  ParamKind kind = ParamKind::kWeight;
};

/// Handle to one tensor of a ParameterStore: its index in the table and its range in the flat
/// buffers. Returned by ParameterStore::add; cheap to copy; checked on every use.
struct ParamRef {
  std::size_t index = 0;
  std::size_t offset = 0;
  std::size_t size = 0;
};

/// All parameters of a model in one contiguous buffer `values` and their gradients in a second
/// buffer `grads` of the same length and layout. Tensors are appended in registration order,
/// without padding. T is float (training) or double (gradient checks).
///
/// New tensors start with value 0 and gradient 0; spans obtained earlier are invalidated by
/// add() (handles are not: they hold offsets).
template <typename T>
class ParameterStore {
 public:
  using Scalar = T;

  /// kAllocate: a usable store. kLayoutOnly: records names, shapes and offsets without
  /// allocating a byte of values or gradients (sizing a model before building it, e.g. to refuse
  /// one that cannot fit in memory); its value/grad accessors throw diffuser::Error.
  enum class Storage { kAllocate, kLayoutOnly };

  explicit ParameterStore(Storage storage = Storage::kAllocate) : storage_(storage) {}

  /// Registers a tensor `name` (non-empty, unique) of the given shape (every dim >= 1) and kind.
  ParamRef add(const std::string& name, std::vector<std::int64_t> shape, ParamKind kind) {
    DIFFUSER_CHECK(!name.empty(), "parameter name is empty");
    DIFFUSER_CHECK(!find(name).has_value(), "parameter '{}' registered twice", name);
    DIFFUSER_CHECK(!shape.empty(), "parameter '{}' has an empty shape", name);
    std::size_t size = 1;
    for (const std::int64_t d : shape) {
      DIFFUSER_CHECK(d >= 1, "parameter '{}' has dimension {} (must be >= 1)", name, d);
      DIFFUSER_CHECK(static_cast<std::size_t>(d) <= (std::size_t{1} << 40) / size,
                     "parameter '{}' is too large", name);
      size *= static_cast<std::size_t>(d);
    }
    const std::size_t total = total_ + size;
    tensors_.reserve(tensors_.size() + 1);
    if (storage_ == Storage::kAllocate) {  // refuse before changing anything
      check_memory_budget(
          2 * sizeof(T) * static_cast<std::uint64_t>(total),
          fmt::format("the model's parameters and gradients ({} scalars with '{}')", total, name));
      values_.resize(total, T(0));
      grads_.resize(total, T(0));
    }
    TensorInfo info{name, std::move(shape), total_, size, kind};
    const ParamRef ref{tensors_.size(), info.offset, info.size};
    tensors_.push_back(std::move(info));
    total_ = total;
    return ref;
  }

  /// Total number of scalars (values().size() == grads().size() for an allocated store).
  std::size_t size() const { return total_; }

  /// The table of named views, in registration (= memory) order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }

  /// The view a handle refers to; throws diffuser::Error if the handle is not from this store.
  const TensorInfo& tensor(const ParamRef& ref) const {
    DIFFUSER_CHECK(ref.index < tensors_.size() && tensors_[ref.index].offset == ref.offset &&
                       tensors_[ref.index].size == ref.size,
                   "parameter handle (index {}, offset {}, size {}) does not belong to this store",
                   ref.index, ref.offset, ref.size);
    return tensors_[ref.index];
  }

  /// Handle of the tensor called `name`, if any.
  std::optional<ParamRef> find(std::string_view name) const {
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
      if (tensors_[i].name == name) return ParamRef{i, tensors_[i].offset, tensors_[i].size};
    }
    return std::nullopt;
  }

  /// Handle of the tensor called `name`; throws diffuser::Error naming it when absent.
  ParamRef ref(std::string_view name) const {
    const auto r = find(name);
    DIFFUSER_CHECK(r.has_value(), "no parameter named '{}'", name);
    return *r;
  }

  /// The flat buffers: all values / all gradients, size() scalars each, tensors in memory order.
  std::span<T> values() { return values_; }
  std::span<const T> values() const { return values_; }
  std::span<T> grads() { return grads_; }
  std::span<const T> grads() const { return grads_; }

  /// Values / gradients of one tensor (row-major, size = product of its shape).
  std::span<T> value(const ParamRef& r) { return std::span<T>(values_).subspan(check(r), r.size); }
  std::span<const T> value(const ParamRef& r) const {
    return std::span<const T>(values_).subspan(check(r), r.size);
  }
  std::span<T> grad(const ParamRef& r) { return std::span<T>(grads_).subspan(check(r), r.size); }
  std::span<const T> grad(const ParamRef& r) const {
    return std::span<const T>(grads_).subspan(check(r), r.size);
  }

  /// Sets every gradient to 0 (layers accumulate parameter gradients with +=).
  void zero_grads() { std::fill(grads_.begin(), grads_.end(), T(0)); }

  /// True when `other` has the same tensors (names, shapes, kinds, offsets) in the same order.
  template <typename U>
  bool same_layout(const ParameterStore<U>& other) const {
    const auto& b = other.tensors();
    if (b.size() != tensors_.size()) return false;
    for (std::size_t i = 0; i < b.size(); ++i) {
      const auto& x = tensors_[i];
      const auto& y = b[i];
      if (x.name != y.name || x.shape != y.shape || x.offset != y.offset || x.kind != y.kind) {
        return false;
      }
    }
    return true;
  }

  /// Copies (and converts) all values from a store of the same layout, e.g. a float model's
  /// weights into a double model for gradient checks. Throws diffuser::Error otherwise.
  template <typename U>
  void copy_values_from(const ParameterStore<U>& other) {
    DIFFUSER_CHECK(same_layout(other), "copy_values_from: parameter layouts differ");
    const auto src = other.values();
    for (std::size_t i = 0; i < values_.size(); ++i) values_[i] = static_cast<T>(src[i]);
  }

 private:
  std::size_t check(const ParamRef& r) const {
    DIFFUSER_CHECK(storage_ == Storage::kAllocate,
                   "parameter store: a layout-only store holds no values or gradients");
    tensor(r);
    return r.offset;
  }

  Storage storage_ = Storage::kAllocate;
  std::size_t total_ = 0;
  std::vector<TensorInfo> tensors_;
  std::vector<T> values_;
  std::vector<T> grads_;
};

}  // namespace diffuser::nn
