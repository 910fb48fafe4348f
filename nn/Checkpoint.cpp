// Why: checkpoint serialisation. The whole file is assembled in memory, checksummed and written
// atomically; loading checks the cheap structural facts first (size, magic, version), then the
// CRC over everything, then the JSON table, so each kind of damage gets its own clear message.
#include "nn/Checkpoint.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <bit>
#include <cmath>
#include <cstring>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "core/JsonDepth.hpp"
#include "nn/Crc32.hpp"

namespace diffuser::nn {

static_assert(std::endian::native == std::endian::little,
              "the checkpoint format is little-endian; this build targets a big-endian machine");

namespace {

constexpr char kMagic[8] = {'D', 'I', 'F', 'F', 'C', 'K', 'P', 'T'};
constexpr std::size_t kFixedHeader = 32;  // magic, version, reserved, H, P
constexpr std::size_t kTrailer = 4;       // CRC-32
constexpr const char* kFormatName = "diffuser-checkpoint";

template <typename T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::kF32;
  if constexpr (std::is_same_v<T, double>) return DType::kF64;
  if constexpr (std::is_same_v<T, std::int64_t>) return DType::kI64;
  if constexpr (std::is_same_v<T, std::uint64_t>) return DType::kU64;
}

std::string where(const std::string& source) {
  return source.empty() ? std::string("checkpoint") : fmt::format("checkpoint '{}'", source);
}

std::string shape_str(std::span<const std::int64_t> shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

template <typename U>
void put(std::string& out, U value) {
  char bytes[sizeof(U)];
  std::memcpy(bytes, &value, sizeof(U));
  out.append(bytes, sizeof(U));
}

template <typename U>
U get(const std::string& in, std::size_t at) {
  U value;
  std::memcpy(&value, in.data() + at, sizeof(U));
  return value;
}

DType parse_dtype(const std::string& s, const std::string& src, const std::string& tensor) {
  if (s == "f32") return DType::kF32;
  if (s == "f64") return DType::kF64;
  if (s == "i64") return DType::kI64;
  if (s == "u64") return DType::kU64;
  fail("{}: tensor '{}' has unknown dtype '{}'", where(src), tensor, s);
}

std::size_t checked_numel(std::span<const std::int64_t> shape, const std::string& what) {
  std::size_t n = 1;
  for (const std::int64_t d : shape) {
    DIFFUSER_CHECK(d >= 0 && static_cast<std::uint64_t>(d) < (std::uint64_t{1} << 40),
                   "{}: dimension {} out of range", what, d);
    // Checked before multiplying: n and d are both below 2^40, so n * d could wrap around
    // 2^64 (e.g. [2^39, 2^39] would read as 0 elements).
    DIFFUSER_CHECK(d == 0 || n <= ((std::size_t{1} << 40) - 1) / static_cast<std::size_t>(d),
                   "{}: tensor too large (shape {})", what, shape_str(shape));
    n *= static_cast<std::size_t>(d);
  }
  return n;
}

}  // namespace

std::string_view to_string(DType d) {
  switch (d) {
    case DType::kF32:
      return "f32";
    case DType::kF64:
      return "f64";
    case DType::kI64:
      return "i64";
    case DType::kU64:
      return "u64";
  }
  return "unknown";
}

std::size_t dtype_size(DType d) { return d == DType::kF32 ? 4 : 8; }

std::size_t CheckpointTensor::numel() const {
  std::size_t n = 1;
  for (const std::int64_t d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

template <typename T>
void Checkpoint::add(const std::string& name, std::vector<std::int64_t> shape,
                     std::span<const T> data) {
  DIFFUSER_CHECK(!name.empty(), "{}: tensor name is empty", where(source));
  DIFFUSER_CHECK(!contains(name), "{}: tensor '{}' added twice", where(source), name);
  const std::size_t n = checked_numel(shape, fmt::format("{}: tensor '{}'", where(source), name));
  DIFFUSER_CHECK(n == data.size(), "{}: tensor '{}' of shape {} needs {} values, got {}",
                 where(source), name, shape_str(shape), n, data.size());
  CheckpointTensor t{name, dtype_of<T>(), std::move(shape), {}};
  t.data.resize(n * sizeof(T));
  if (n > 0) std::memcpy(t.data.data(), data.data(), n * sizeof(T));
  tensors_.push_back(std::move(t));
}

bool Checkpoint::contains(std::string_view name) const {
  for (const auto& t : tensors_) {
    if (t.name == name) return true;
  }
  return false;
}

const CheckpointTensor& Checkpoint::tensor(std::string_view name) const {
  for (const auto& t : tensors_) {
    if (t.name == name) return t;
  }
  fail("{}: no tensor '{}'", where(source), name);
}

template <typename T>
void Checkpoint::read(std::string_view name, std::span<const std::int64_t> expected_shape,
                      std::span<T> out) const {
  const CheckpointTensor& t = tensor(name);
  DIFFUSER_CHECK(
      std::equal(t.shape.begin(), t.shape.end(), expected_shape.begin(), expected_shape.end()),
      "{}: tensor '{}' has shape {}, the model expects {}", where(source), name, shape_str(t.shape),
      shape_str(expected_shape));
  const std::size_t n = t.numel();
  DIFFUSER_CHECK(out.size() == n, "{}: tensor '{}' has {} values, the destination holds {}",
                 where(source), name, n, out.size());
  if (t.dtype == dtype_of<T>()) {
    if (n > 0) std::memcpy(out.data(), t.data.data(), n * sizeof(T));
    return;
  }
  if constexpr (std::is_floating_point_v<T>) {
    if (t.dtype == DType::kF32) {
      for (std::size_t i = 0; i < n; ++i) {
        float v;
        std::memcpy(&v, t.data.data() + i * 4, 4);
        out[i] = static_cast<T>(v);
      }
      return;
    }
    if (t.dtype == DType::kF64) {
      for (std::size_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, t.data.data() + i * 8, 8);
        out[i] = static_cast<T>(v);
      }
      return;
    }
  }
  fail("{}: tensor '{}' is {}, cannot read it as {}", where(source), name, to_string(t.dtype),
       to_string(dtype_of<T>()));
}

void save_checkpoint(const std::string& path, const Checkpoint& ckpt) {
  DIFFUSER_CHECK(ckpt.meta.is_object(), "checkpoint '{}': meta must be a JSON object", path);
  nlohmann::json table = nlohmann::json::array();
  std::uint64_t offset = 0;
  for (const auto& t : ckpt.tensors()) {
    table.push_back({{"name", t.name},
                     {"dtype", std::string(to_string(t.dtype))},
                     {"shape", t.shape},
                     {"offset", offset},
                     {"nbytes", t.data.size()}});
    offset += t.data.size();
  }
  const nlohmann::json header = {{"format", kFormatName}, {"meta", ckpt.meta}, {"tensors", table}};
  const std::string header_text = header.dump();

  std::string file;
  file.reserve(kFixedHeader + header_text.size() + offset + kTrailer);
  file.append(kMagic, sizeof(kMagic));
  put<std::uint32_t>(file, Checkpoint::kVersion);
  put<std::uint32_t>(file, 0);
  put<std::uint64_t>(file, header_text.size());
  put<std::uint64_t>(file, offset);
  file += header_text;
  for (const auto& t : ckpt.tensors()) {
    file.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
  }
  const auto* bytes = reinterpret_cast<const std::byte*>(file.data());
  const std::uint32_t crc = crc32(std::span<const std::byte>(bytes + 8, file.size() - 8));
  put<std::uint32_t>(file, crc);
  write_text_atomic(path, file);
}

Checkpoint load_checkpoint(const std::string& path) {
  const std::string file = read_text_file(path);
  const std::string src = where(path);
  DIFFUSER_CHECK(file.size() >= kFixedHeader + kTrailer,
                 "{}: truncated: {} bytes, shorter than the {}-byte fixed header and checksum", src,
                 file.size(), kFixedHeader + kTrailer);
  DIFFUSER_CHECK(std::memcmp(file.data(), kMagic, sizeof(kMagic)) == 0,
                 "{}: not a diffuser checkpoint (wrong magic bytes)", src);
  const auto version = get<std::uint32_t>(file, 8);
  DIFFUSER_CHECK(version == Checkpoint::kVersion,
                 "{}: unsupported format version {} (this build reads version {})", src, version,
                 Checkpoint::kVersion);
  const auto header_bytes = get<std::uint64_t>(file, 16);
  const auto payload_bytes = get<std::uint64_t>(file, 24);
  const std::uint64_t available = file.size() - kFixedHeader - kTrailer;
  DIFFUSER_CHECK(header_bytes <= available && payload_bytes <= available - header_bytes,
                 "{}: truncated: header ({} bytes) and payload ({} bytes) need {} bytes, the file "
                 "has {}",
                 src, header_bytes, payload_bytes,
                 static_cast<long double>(header_bytes) + payload_bytes + kFixedHeader + kTrailer,
                 file.size());
  DIFFUSER_CHECK(header_bytes + payload_bytes == available,
                 "{}: size mismatch: header ({} bytes) and payload ({} bytes) need {} bytes, the "
                 "file has {} (trailing data or corrupted lengths)",
                 src, header_bytes, payload_bytes,
                 header_bytes + payload_bytes + kFixedHeader + kTrailer, file.size());
  const auto* bytes = reinterpret_cast<const std::byte*>(file.data());
  const std::uint32_t stored = get<std::uint32_t>(file, file.size() - kTrailer);
  const std::uint32_t actual =
      crc32(std::span<const std::byte>(bytes + 8, file.size() - 8 - kTrailer));
  DIFFUSER_CHECK(stored == actual,
                 "{}: checksum mismatch (stored CRC-32 {:08x}, computed {:08x}): the file is "
                 "corrupted",
                 src, stored, actual);

  check_json_depth(std::string_view(file).substr(kFixedHeader, header_bytes), src + " header");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(
        file.begin() + kFixedHeader,
        file.begin() + static_cast<std::ptrdiff_t>(kFixedHeader + header_bytes));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: header is not valid JSON: {}", src, e.what());
  }
  Checkpoint ckpt;
  ckpt.source = path;
  try {
    DIFFUSER_CHECK(header.is_object() && header.value("format", "") == kFormatName,
                   "{}: header is not a diffuser checkpoint header", src);
    DIFFUSER_CHECK(header.contains("meta") && header["meta"].is_object(),
                   "{}: header has no 'meta' object", src);
    DIFFUSER_CHECK(header.contains("tensors") && header["tensors"].is_array(),
                   "{}: header has no 'tensors' array", src);
    ckpt.meta = header["meta"];
    const std::size_t payload_start = kFixedHeader + header_bytes;
    std::uint64_t expected_offset = 0;
    for (const auto& entry : header["tensors"]) {
      const std::string name = entry.at("name").get<std::string>();
      DIFFUSER_CHECK(!name.empty() && !ckpt.contains(name),
                     "{}: tensor name '{}' empty or repeated", src, name);
      const DType dtype = parse_dtype(entry.at("dtype").get<std::string>(), path, name);
      auto shape = entry.at("shape").get<std::vector<std::int64_t>>();
      const auto offset = entry.at("offset").get<std::uint64_t>();
      const auto nbytes = entry.at("nbytes").get<std::uint64_t>();
      const std::size_t numel = checked_numel(shape, fmt::format("{}: tensor '{}'", src, name));
      DIFFUSER_CHECK(nbytes == numel * dtype_size(dtype) && offset == expected_offset &&
                         nbytes <= payload_bytes - offset,
                     "{}: tensor '{}' ({} {}) has inconsistent offset {} / size {} bytes", src,
                     name, to_string(dtype), shape_str(shape), offset, nbytes);
      CheckpointTensor t{name, dtype, std::move(shape), {}};
      t.data.assign(bytes + payload_start + offset, bytes + payload_start + offset + nbytes);
      ckpt.tensors_.push_back(std::move(t));
      expected_offset += nbytes;
    }
    DIFFUSER_CHECK(expected_offset == payload_bytes,
                   "{}: tensor table covers {} bytes, the payload has {}", src, expected_offset,
                   payload_bytes);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: malformed tensor table: {}", src, e.what());
  }
  return ckpt;
}

namespace {

constexpr const char* kParamPrefix = "param/";
constexpr const char* kMomentPrefix1 = "adam_m/";
constexpr const char* kMomentPrefix2 = "adam_v/";

/// Checks that every element of float tensor `t` is finite once converted to T (an f64 value
/// beyond the float range would load as Inf) and, when `non_negative`, not below 0 (AdamW's
/// second moment, whose square root the update takes).
template <typename T>
void check_values(const Checkpoint& ckpt, const CheckpointTensor& t, bool non_negative) {
  const std::size_t n = t.numel();
  for (std::size_t i = 0; i < n; ++i) {
    T v;
    if (t.dtype == DType::kF32) {
      float f;
      std::memcpy(&f, t.data.data() + i * 4, 4);
      v = static_cast<T>(f);
    } else {
      double d;
      std::memcpy(&d, t.data.data() + i * 8, 8);
      v = static_cast<T>(d);
    }
    DIFFUSER_CHECK(std::isfinite(v), "{}: tensor '{}' holds a non-finite value ({}) at element {}",
                   where(ckpt.source), t.name, v, i);
    DIFFUSER_CHECK(!non_negative || v >= 0,
                   "{}: tensor '{}' holds a negative value ({}) at element {}", where(ckpt.source),
                   t.name, v, i);
  }
}

template <typename T>
void check_matches(const Checkpoint& ckpt, const ParameterStore<T>& store,
                   const std::string& prefix) {
  for (const TensorInfo& info : store.tensors()) {
    const std::string name = prefix + info.name;
    const CheckpointTensor& t = ckpt.tensor(name);
    DIFFUSER_CHECK(t.shape == info.shape, "{}: tensor '{}' has shape {}, the model expects {}",
                   where(ckpt.source), name, shape_str(t.shape), shape_str(info.shape));
    DIFFUSER_CHECK(t.dtype == DType::kF32 || t.dtype == DType::kF64,
                   "{}: tensor '{}' is {}, expected f32 or f64", where(ckpt.source), name,
                   to_string(t.dtype));
    check_values<T>(ckpt, t, prefix == kMomentPrefix2);
  }
  for (const CheckpointTensor& t : ckpt.tensors()) {
    if (t.name.rfind(prefix, 0) != 0) continue;
    DIFFUSER_CHECK(store.find(std::string_view(t.name).substr(prefix.size())).has_value(),
                   "{}: tensor '{}' has no counterpart in the model", where(ckpt.source), t.name);
  }
}

}  // namespace

template <typename T>
void add_parameters(Checkpoint& ckpt, const ParameterStore<T>& store) {
  for (const TensorInfo& info : store.tensors()) {
    ckpt.add<T>(kParamPrefix + info.name, info.shape,
                store.values().subspan(info.offset, info.size));
  }
}

template <typename T>
void restore_parameters(const Checkpoint& ckpt, ParameterStore<T>& store) {
  check_matches(ckpt, store, kParamPrefix);
  for (const TensorInfo& info : store.tensors()) {
    ckpt.read<T>(kParamPrefix + info.name, info.shape,
                 store.values().subspan(info.offset, info.size));
  }
}

template <typename T>
void add_optimizer_state(Checkpoint& ckpt, const ParameterStore<T>& store, const AdamW<T>& opt) {
  DIFFUSER_CHECK(opt.m().size() == store.size(),
                 "add_optimizer_state: optimiser holds {} values, the store {}", opt.m().size(),
                 store.size());
  for (const TensorInfo& info : store.tensors()) {
    ckpt.add<T>(kMomentPrefix1 + info.name, info.shape, opt.m().subspan(info.offset, info.size));
    ckpt.add<T>(kMomentPrefix2 + info.name, info.shape, opt.v().subspan(info.offset, info.size));
  }
  const AdamWConfig& c = opt.config();
  ckpt.meta["adamw"] = {{"step", opt.step_count()},
                        {"beta1", c.beta1},
                        {"beta2", c.beta2},
                        {"eps", c.eps},
                        {"weight_decay", c.weight_decay}};
}

template <typename T>
void restore_optimizer_state(const Checkpoint& ckpt, const ParameterStore<T>& store,
                             AdamW<T>& opt) {
  DIFFUSER_CHECK(opt.m().size() == store.size(),
                 "restore_optimizer_state: optimiser holds {} values, the store {}", opt.m().size(),
                 store.size());
  check_matches(ckpt, store, kMomentPrefix1);
  check_matches(ckpt, store, kMomentPrefix2);
  std::int64_t step = -1;
  if (ckpt.meta.contains("adamw") && ckpt.meta["adamw"].is_object() &&
      ckpt.meta["adamw"].contains("step") && ckpt.meta["adamw"]["step"].is_number_integer()) {
    step = ckpt.meta["adamw"]["step"].get<std::int64_t>();
  }
  DIFFUSER_CHECK(step >= 0, "{}: meta.adamw.step missing or invalid", where(ckpt.source));
  for (const TensorInfo& info : store.tensors()) {
    ckpt.read<T>(kMomentPrefix1 + info.name, info.shape, opt.m().subspan(info.offset, info.size));
    ckpt.read<T>(kMomentPrefix2 + info.name, info.shape, opt.v().subspan(info.offset, info.size));
  }
  opt.set_step_count(step);
}

template void Checkpoint::add<float>(const std::string&, std::vector<std::int64_t>,
                                     std::span<const float>);
template void Checkpoint::add<double>(const std::string&, std::vector<std::int64_t>,
                                      std::span<const double>);
template void Checkpoint::add<std::int64_t>(const std::string&, std::vector<std::int64_t>,
                                            std::span<const std::int64_t>);
template void Checkpoint::add<std::uint64_t>(const std::string&, std::vector<std::int64_t>,
                                             std::span<const std::uint64_t>);
template void Checkpoint::read<float>(std::string_view, std::span<const std::int64_t>,
                                      std::span<float>) const;
template void Checkpoint::read<double>(std::string_view, std::span<const std::int64_t>,
                                       std::span<double>) const;
template void Checkpoint::read<std::int64_t>(std::string_view, std::span<const std::int64_t>,
                                             std::span<std::int64_t>) const;
template void Checkpoint::read<std::uint64_t>(std::string_view, std::span<const std::int64_t>,
                                              std::span<std::uint64_t>) const;

#define DIFFUSER_NN_INSTANTIATE(T)                                                              \
  template void add_parameters<T>(Checkpoint&, const ParameterStore<T>&);                       \
  template void restore_parameters<T>(const Checkpoint&, ParameterStore<T>&);                   \
  template void add_optimizer_state<T>(Checkpoint&, const ParameterStore<T>&, const AdamW<T>&); \
  template void restore_optimizer_state<T>(const Checkpoint&, const ParameterStore<T>&, AdamW<T>&);
DIFFUSER_NN_INSTANTIATE(float)
DIFFUSER_NN_INSTANTIATE(double)
#undef DIFFUSER_NN_INSTANTIATE

}  // namespace diffuser::nn
