// Why: a forward hands its saved state to Python as arrays that view the C++ buffers; when a
// backward gets those same arrays back it must find the state again without copying it. The
// registry maps the address of the attention-weight buffer to the state's owner (weak, so the
// state dies with its last array). The CPU binding (AttentionSaved<T>) and the CUDA binding
// (CudaSaved) use it alike.
#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>

namespace diffuser::python {

/// Owns one saved state and removes its registry entry when the last array viewing it goes.
template <typename State>
class SavedHolder {
 public:
  State state;

  SavedHolder() = default;
  SavedHolder(const SavedHolder&) = delete;
  SavedHolder& operator=(const SavedHolder&) = delete;
  ~SavedHolder() {
    if (key_ == nullptr) return;
    const std::lock_guard<std::mutex> lock(mutex());
    const auto it = entries().find(key_);
    if (it != entries().end() && it->second.expired()) entries().erase(it);
  }

  /// Registers `holder` under `key` (the address of its attention weights).
  static void add(const std::shared_ptr<SavedHolder>& holder, const void* key) {
    const std::lock_guard<std::mutex> lock(mutex());
    holder->key_ = key;
    entries()[key] = holder;
  }

  /// The live holder registered under `key`, or null.
  static std::shared_ptr<SavedHolder> find(const void* key) {
    const std::lock_guard<std::mutex> lock(mutex());
    const auto it = entries().find(key);
    return it == entries().end() ? nullptr : it->second.lock();
  }

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static std::unordered_map<const void*, std::weak_ptr<SavedHolder>>& entries() {
    static std::unordered_map<const void*, std::weak_ptr<SavedHolder>> e;
    return e;
  }

  const void* key_ = nullptr;
};

}  // namespace diffuser::python
