// Why: a checkpoint must come back bit for bit, and every kind of damage (truncation, flipped
// bits, wrong magic or version, a model that does not match) must be refused with a clear error.
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "nn/AdamW.hpp"
#include "nn/Checkpoint.hpp"
#include "nn/Crc32.hpp"
#include "nn/LayerNorm.hpp"
#include "nn/Linear.hpp"
#include "nn/ParameterStore.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::nn;
using diffuser::testing::TempDir;
using diffuser::testing::write_file;

namespace {

std::uint32_t crc_of(const std::string& s) {
  return crc32(std::span<const std::byte>(reinterpret_cast<const std::byte*>(s.data()), s.size()));
}

// A small float model: Linear 3->4 and LayerNorm 4, random weights, AdamW after two steps.
struct Model {
  ParameterStore<float> store;
  Linear lin;
  LayerNorm ln;
  AdamW<float> opt;

  explicit Model(std::int64_t out = 4, const std::string& name = "lin")
      : lin(store, name, 3, out), ln(store, "ln", out), opt(store, AdamWConfig{}) {}

  void train_a_bit(std::uint64_t seed) {
    Rng rng(seed);
    for (float& v : store.values()) v = static_cast<float>(rng.normal());
    for (int s = 0; s < 2; ++s) {
      for (float& g : store.grads()) g = static_cast<float>(rng.normal());
      opt.step(store, 1e-2);
    }
  }
};

Checkpoint make_checkpoint(const Model& m) {
  Checkpoint c;
  c.meta["config"] = {{"dim", 4}, {"name", "tiny"}};
  c.meta["step"] = 2;
  add_parameters(c, m.store);
  add_optimizer_state(c, m.store, m.opt);
  const std::vector<std::uint64_t> rng_state = {1, 2, 3, 0xFFFFFFFFFFFFFFFFull};
  c.add<std::uint64_t>("rng/state", {4}, rng_state);
  return c;
}

}  // namespace

TEST_CASE("crc32 matches the standard check value and is incremental", "[nn][checkpoint]") {
  CHECK(crc_of("123456789") == 0xCBF43926u);  // the CRC-32/ISO-HDLC check value
  CHECK(crc_of("") == 0u);
  CHECK(crc_of("The quick brown fox jumps over the lazy dog") == 0x414FA339u);
  const std::string a = "hello ", b = "world";
  const auto* pa = reinterpret_cast<const std::byte*>(a.data());
  const auto* pb = reinterpret_cast<const std::byte*>(b.data());
  const std::uint32_t part = crc32(std::span<const std::byte>(pa, a.size()));
  CHECK(crc32(std::span<const std::byte>(pb, b.size()), part) == crc_of(a + b));
}

TEST_CASE("checkpoint round trip restores parameters, moments and step bit for bit",
          "[nn][checkpoint]") {
  TempDir dir;
  Model m;
  m.train_a_bit(1);
  const auto path = dir.file("model.ckpt");
  save_checkpoint(path, make_checkpoint(m));

  const Checkpoint loaded = load_checkpoint(path);
  CHECK(loaded.source == path);
  CHECK(loaded.meta["config"]["name"] == "tiny");
  CHECK(loaded.meta["step"] == 2);
  CHECK(loaded.meta["adamw"]["step"] == 2);
  std::vector<std::uint64_t> rng_state(4);
  loaded.read<std::uint64_t>("rng/state", std::vector<std::int64_t>{4}, rng_state);
  CHECK(rng_state[3] == 0xFFFFFFFFFFFFFFFFull);

  Model fresh;
  restore_parameters(loaded, fresh.store);
  restore_optimizer_state(loaded, fresh.store, fresh.opt);
  REQUIRE(fresh.store.size() == m.store.size());
  CHECK(std::memcmp(fresh.store.values().data(), m.store.values().data(),
                    m.store.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(fresh.opt.m().data(), m.opt.m().data(), m.store.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(fresh.opt.v().data(), m.opt.v().data(), m.store.size() * sizeof(float)) == 0);
  CHECK(fresh.opt.step_count() == 2);

  // Saving what was loaded reproduces the file byte for byte.
  const auto again = dir.file("again.ckpt");
  save_checkpoint(again, loaded);
  CHECK(read_text_file(again) == read_text_file(path));

  // A float checkpoint restores into a double model (values converted exactly).
  ParameterStore<double> wide;
  const Linear lw(wide, "lin", 3, 4);
  const LayerNorm nw(wide, "ln", 4);
  restore_parameters(loaded, wide);
  for (std::size_t i = 0; i < wide.size(); ++i)
    CHECK(wide.values()[i] == static_cast<double>(m.store.values()[i]));
}

TEST_CASE("truncated checkpoints are refused", "[nn][checkpoint]") {
  TempDir dir;
  Model m;
  m.train_a_bit(2);
  const auto path = dir.file("model.ckpt");
  save_checkpoint(path, make_checkpoint(m));
  const std::string full = read_text_file(path);
  const auto cut = dir.file("cut.ckpt");
  for (const std::size_t keep : {std::size_t{0}, std::size_t{10}, std::size_t{35}, std::size_t{100},
                                 full.size() / 2, full.size() - 5, full.size() - 1}) {
    INFO("kept " << keep << " of " << full.size() << " bytes");
    write_file(cut, full.substr(0, keep));
    CHECK_THROWS_WITH(load_checkpoint(cut), Catch::Contains(cut) && Catch::Contains("truncated"));
  }
  write_file(cut, full + "extra");
  CHECK_THROWS_WITH(load_checkpoint(cut), Catch::Contains("size mismatch"));
  CHECK_THROWS_WITH(load_checkpoint(dir.file("missing.ckpt")), Catch::Contains("missing.ckpt"));
}

TEST_CASE("a flipped bit anywhere in a checkpoint is detected", "[nn][checkpoint]") {
  TempDir dir;
  Model m;
  m.train_a_bit(3);
  const auto path = dir.file("model.ckpt");
  save_checkpoint(path, make_checkpoint(m));
  const std::string full = read_text_file(path);
  const auto bad = dir.file("bad.ckpt");

  // Every byte position, one bit each (the bit index cycles): all must be refused.
  for (std::size_t i = 0; i < full.size(); ++i) {
    std::string flipped = full;
    flipped[i] = static_cast<char>(flipped[i] ^ (1 << (i % 8)));
    write_file(bad, flipped);
    INFO("flipped bit " << i % 8 << " of byte " << i << " of " << full.size());
    REQUIRE_THROWS_AS(load_checkpoint(bad), Error);
  }
  // A flip in the payload (the last tensor's data) or the JSON header names the checksum.
  std::string payload_flip = full;
  payload_flip[full.size() - 10] ^= 0x01;
  write_file(bad, payload_flip);
  CHECK_THROWS_WITH(load_checkpoint(bad), Catch::Contains("checksum mismatch"));
  std::string header_flip = full;
  header_flip[40] ^= 0x20;
  write_file(bad, header_flip);
  CHECK_THROWS_WITH(load_checkpoint(bad), Catch::Contains("checksum mismatch"));
}

TEST_CASE("wrong magic and wrong version are refused", "[nn][checkpoint]") {
  TempDir dir;
  Model m;
  const auto path = dir.file("model.ckpt");
  save_checkpoint(path, make_checkpoint(m));
  const std::string full = read_text_file(path);
  const auto bad = dir.file("bad.ckpt");

  std::string magic = full;
  magic.replace(0, 8, "NOTACKPT");
  write_file(bad, magic);
  CHECK_THROWS_WITH(load_checkpoint(bad), Catch::Contains("not a diffuser checkpoint"));

  std::string version = full;
  const std::uint32_t v2 = 2;
  std::memcpy(version.data() + 8, &v2, 4);
  write_file(bad, version);
  CHECK_THROWS_WITH(load_checkpoint(bad),
                    Catch::Contains("unsupported format version 2") && Catch::Contains("1"));
}

TEST_CASE("checkpoints that do not match the model are refused, all or nothing",
          "[nn][checkpoint]") {
  TempDir dir;
  Model m;
  m.train_a_bit(4);
  const auto path = dir.file("model.ckpt");
  save_checkpoint(path, make_checkpoint(m));
  const Checkpoint ckpt = load_checkpoint(path);

  Model wider(5);
  const std::vector<float> before(wider.store.values().begin(), wider.store.values().end());
  CHECK_THROWS_WITH(
      restore_parameters(ckpt, wider.store),
      Catch::Contains("'param/lin.weight' has shape [4, 3], the model expects [5, 3]"));
  CHECK(std::vector<float>(wider.store.values().begin(), wider.store.values().end()) == before);
  CHECK_THROWS_AS(restore_optimizer_state(ckpt, wider.store, wider.opt), Error);

  Model renamed(4, "proj");
  CHECK_THROWS_WITH(restore_parameters(ckpt, renamed.store),
                    Catch::Contains(path) && Catch::Contains("no tensor 'param/proj.weight'"));

  // A checkpoint with a parameter the model lacks.
  Checkpoint extra = ckpt;
  const std::vector<float> one = {1.0f};
  extra.add<float>("param/surplus", {1}, one);
  CHECK_THROWS_WITH(restore_parameters(extra, m.store),
                    Catch::Contains("'param/surplus' has no counterpart"));

  // Integer tensors are not silently reinterpreted as floats.
  std::vector<float> f4(4);
  CHECK_THROWS_WITH(ckpt.read<float>("rng/state", std::vector<std::int64_t>{4}, f4),
                    Catch::Contains("u64"));
  CHECK_THROWS_AS(extra.add<float>("param/surplus", {1}, one), Error);
  CHECK_THROWS_AS(extra.add<float>("x", {2}, one), Error);
}

TEST_CASE("a malformed header behind a valid checksum is refused", "[nn][checkpoint]") {
  // Build a file by hand whose CRC is right but whose JSON table lies about a tensor size.
  const std::string header =
      R"({"format":"diffuser-checkpoint","meta":{},"tensors":[{"name":"a","dtype":"f32",)"
      R"("shape":[3],"offset":0,"nbytes":8}]})";
  const std::string payload(8, '\0');
  std::string file = "DIFFCKPT";
  const std::uint32_t version = 1, reserved = 0;
  const std::uint64_t h = header.size(), p = payload.size();
  file.append(reinterpret_cast<const char*>(&version), 4);
  file.append(reinterpret_cast<const char*>(&reserved), 4);
  file.append(reinterpret_cast<const char*>(&h), 8);
  file.append(reinterpret_cast<const char*>(&p), 8);
  file += header + payload;
  const std::uint32_t crc = crc_of(file.substr(8));
  file.append(reinterpret_cast<const char*>(&crc), 4);
  TempDir dir;
  write_file(dir.file("x.ckpt"), file);
  CHECK_THROWS_WITH(load_checkpoint(dir.file("x.ckpt")),
                    Catch::Contains("tensor 'a'") && Catch::Contains("inconsistent"));
}

TEST_CASE("non-finite or out-of-range values are refused at restore, all or nothing",
          "[nn][checkpoint]") {
  Model m;
  m.train_a_bit(5);
  const Checkpoint good = make_checkpoint(m);
  // A copy of `good` with tensor `name` (f32) element 1 replaced by `value`; optionally stored
  // as f64 (to hold a value no float can).
  auto damaged = [&](const std::string& name, double value, bool as_f64) {
    Checkpoint c;
    c.meta = good.meta;
    for (const auto& t : good.tensors()) {
      if (t.dtype == DType::kU64) {
        std::vector<std::uint64_t> v(t.numel());
        good.read<std::uint64_t>(t.name, t.shape, v);
        c.add<std::uint64_t>(t.name, t.shape, v);
        continue;
      }
      std::vector<double> v(t.numel());
      good.read<double>(t.name, t.shape, v);
      if (t.name == name) v[1] = value;
      if (t.name == name && as_f64) {
        c.add<double>(t.name, t.shape, v);
      } else {
        c.add<float>(t.name, t.shape, std::vector<float>(v.begin(), v.end()));
      }
    }
    return c;
  };
  Model other;
  other.train_a_bit(6);
  const std::vector<float> before(other.store.values().begin(), other.store.values().end());
  const auto unchanged = [&] {
    return std::vector<float>(other.store.values().begin(), other.store.values().end()) == before;
  };
  CHECK_THROWS_WITH(
      restore_parameters(damaged("param/ln.weight", std::nan(""), false), other.store),
      Catch::Contains("tensor 'param/ln.weight' holds a non-finite value (nan) at "
                      "element 1"));
  CHECK(unchanged());
  // 1e300 is a finite double but Inf as a float: refused when restoring into a float model.
  CHECK_THROWS_WITH(restore_parameters(damaged("param/lin.weight", 1e300, true), other.store),
                    Catch::Contains("'param/lin.weight' holds a non-finite value (inf)"));
  CHECK(unchanged());
  CHECK_THROWS_WITH(
      restore_optimizer_state(damaged("adam_m/lin.bias", -INFINITY, false), other.store, other.opt),
      Catch::Contains("'adam_m/lin.bias' holds a non-finite value (-inf)"));
  CHECK_THROWS_WITH(
      restore_optimizer_state(damaged("adam_v/lin.bias", -0.5, false), other.store, other.opt),
      Catch::Contains("'adam_v/lin.bias' holds a negative value (-0.5) at element 1"));
  // The undamaged checkpoint restores.
  CHECK_NOTHROW(restore_parameters(good, other.store));
  CHECK_NOTHROW(restore_optimizer_state(good, other.store, other.opt));
}

TEST_CASE("a tensor table whose shape product overflows is refused", "[nn][checkpoint]") {
  // [2^32, 2^32] has 2^64 elements: the product wraps to 0 in 64 bits, which must not pass
  // as an empty tensor (it matches nbytes = 0).
  const std::string header =
      R"({"format":"diffuser-checkpoint","meta":{},"tensors":[{"name":"w","dtype":"f32",)"
      R"("shape":[4294967296,4294967296],"offset":0,"nbytes":0}]})";
  std::string file = "DIFFCKPT";
  const std::uint32_t version = 1, reserved = 0;
  const std::uint64_t h = header.size(), p = 0;
  file.append(reinterpret_cast<const char*>(&version), 4);
  file.append(reinterpret_cast<const char*>(&reserved), 4);
  file.append(reinterpret_cast<const char*>(&h), 8);
  file.append(reinterpret_cast<const char*>(&p), 8);
  file += header;
  const std::uint32_t crc = crc_of(file.substr(8));
  file.append(reinterpret_cast<const char*>(&crc), 4);
  TempDir dir;
  write_file(dir.file("wrap.ckpt"), file);
  CHECK_THROWS_WITH(load_checkpoint(dir.file("wrap.ckpt")),
                    Catch::Contains("tensor 'w'") && Catch::Contains("tensor too large"));
}
