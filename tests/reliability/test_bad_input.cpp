// Why: the bad-input table of docs/reliability.md, row by row, against the built executable.
// Every row must end the way docs/design.md promises: exit status 1 (2 for command-line usage
// errors), no signal, no hang, and exactly one line on stderr that names the problem. The
// expected text of each row is the message pattern the table documents.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "core/AtomicFile.hpp"
#include "core/Npy.hpp"
#include "nn/Checkpoint.hpp"
#include "tests/Testing.hpp"
#include "tests/reliability/CliRunner.hpp"

using namespace diffuser;
using diffuser::testing::CliResult;
using diffuser::testing::TempDir;
using diffuser::testing::write_file;

namespace {

/// One row of the table: a command line and the text its one error line must contain.
struct Row {
  std::string what;               ///< the bad-input class (docs/reliability.md)
  std::vector<std::string> args;  ///< arguments after `diffuser`
  std::string expect;             ///< substring of the stderr line
  int exit_code = 1;
};

/// Runs every row in `dir` and checks the contract; INFO names the row on failure.
void check_rows(const TempDir& dir, const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    std::string cmd = "diffuser";
    for (const auto& a : row.args) cmd += " " + a;
    INFO(row.what << ": " << cmd);
    const CliResult r = testing::run_cli(DIFFUSER_CLI_BINARY, row.args, dir.path().string(), 120);
    INFO("stderr: " << r.err);
    CHECK_FALSE(r.timed_out);
    CHECK(r.signal == 0);
    CHECK(r.exit_code == row.exit_code);
    CHECK(testing::count_lines(r.err) == 1);
    CHECK(r.err.rfind("diffuser: ", 0) == 0);
    CHECK(r.err.find(row.expect) != std::string::npos);
  }
}

/// .npy bytes with a hand-written header dict (for headers serialize_npy would never write).
std::string npy_with_header(const std::string& dict, const std::string& data) {
  std::string header = dict;
  const std::size_t total = 10 + header.size() + 1;
  header.append((total + 63) / 64 * 64 - total, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

std::string npy_bytes(const NpyArray& a) {
  const auto bytes = serialize_npy(a);
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

/// IDX bytes: magic 0 0 type rank, big-endian dims, data.
std::string idx_bytes(std::uint8_t type, const std::vector<std::uint32_t>& dims,
                      const std::string& data) {
  std::string out = {'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (const auto d : dims) {
    for (int b = 3; b >= 0; --b) out += static_cast<char>((d >> (8 * b)) & 0xFF);
  }
  return out + data;
}

const char* kTinyConfig = R"({
  "task": {"name": "listops", "train_size": 24, "val_size": 8, "test_size": 8,
           "min_len": 4, "max_len": 16, "max_depth": 3, "seed": 5},
  "model": {"layers": 1, "dim": 8, "heads": 2, "mlp_dim": 16, "dropout": 0.0, "pool": "cls"},
  "attention": {"variant": "diffuser", "pattern": "window=1,global=1", "hops": 2},
  "train": {"steps": 2, "batch_size": 4, "bucket_granularity": 4, "eval_every": 0,
            "log_every": 1, "checkpoint_every": 1, "seed": 3, "threads": 1}
})";

/// A copy of `in` whose tensor `name` has element 0 replaced by `value` (valid checksum: the
/// damage is in the numbers, not the file).
nn::Checkpoint with_poisoned_value(const nn::Checkpoint& in, const std::string& name, float value) {
  nn::Checkpoint out;
  out.meta = in.meta;
  for (const auto& t : in.tensors()) {
    const auto n = t.numel();
    switch (t.dtype) {
      case nn::DType::kF32: {
        std::vector<float> v(n);
        in.read<float>(t.name, t.shape, v);
        if (t.name == name) v[0] = value;
        out.add<float>(t.name, t.shape, v);
        break;
      }
      case nn::DType::kF64: {
        std::vector<double> v(n);
        in.read<double>(t.name, t.shape, v);
        out.add<double>(t.name, t.shape, v);
        break;
      }
      case nn::DType::kI64: {
        std::vector<std::int64_t> v(n);
        in.read<std::int64_t>(t.name, t.shape, v);
        out.add<std::int64_t>(t.name, t.shape, v);
        break;
      }
      case nn::DType::kU64: {
        std::vector<std::uint64_t> v(n);
        in.read<std::uint64_t>(t.name, t.shape, v);
        out.add<std::uint64_t>(t.name, t.shape, v);
        break;
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("graph files: malformed, truncated, non-finite, oversized", "[reliability][cli]") {
  TempDir dir;
  auto f = [&](const std::string& name, const std::string& content) {
    write_file(dir.file(name), content);
  };
  const std::string mm = "%%MatrixMarket matrix coordinate pattern general\n";
  f("ok.mtx", mm + "3 3 3\n1 1\n2 2\n3 3\n");
  f("empty.mtx", "");
  f("header.mtx", "%%MatrixMarket matrix array real general\n3 3\n");
  f("trunc.mtx", mm + "3 3 4\n1 1\n2 2\n3 3      \n");
  f("range.mtx", mm + "3 3 1\n9 1\n");
  f("nan.mtx", "%%MatrixMarket matrix coordinate real general\n3 3 1\n1 1 nan\n");
  {
    // Self-loops only, n = 200000: a dense eigen-solve would need ~1.2 TB.
    std::string big = mm + "200000 200000 200000\n";
    for (int i = 1; i <= 200000; ++i) big += std::to_string(i) + " " + std::to_string(i) + "\n";
    f("big.mtx", big);
  }
  f("huge_n.mtx", mm + "2000000000 2000000000 0\n");
  f("huge_count.mtx", mm + "3 3 2000000000\n1 1\n");
  f("nonnum.txt", "0 1\na 2\n");
  f("fields.txt", "0 1\n1 2 0.5\n");
  f("inf.txt", "0 1 inf\n");
  f("huge_index.txt", "1999999999 0\n");
  const std::vector<float> square = {1, 0, 0, 1};
  const std::vector<float> with_nan = {1, std::numeric_limits<float>::quiet_NaN(), 0, 1};
  const std::string four_floats(16, '\0');
  f("magic.npy", "PK\x03\x04 this is a zip file");
  f("trunc.npy", npy_bytes(NpyArray::from<float>(square, {2, 2})).substr(0, 130));
  f("dtype.npy",
    npy_with_header("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 2), }", "01234567"));
  f("shape3d.npy", npy_bytes(NpyArray::from<float>(square, {1, 2, 2})));
  f("nonsquare.npy", npy_bytes(NpyArray::from<float>(square, {1, 4})));
  f("nan.npy", npy_bytes(NpyArray::from<float>(with_nan, {2, 2})));
  f("fortran.npy",
    npy_with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", four_floats));
  f("newline.npy",
    npy_with_header("{'de\nscr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", four_floats));
  f("invalid.json", R"({"format": "diffuser-csr", "n": 2,)");
  f("deep.json", std::string(100000, '[') + std::string(100000, ']'));
  f("csr.json", R"({"format": "diffuser-csr", "n": 2, "offsets": [0, 1, 2], "columns": [0, 7]})");
  f("overflow.json", R"({"format": "diffuser-csr", "n": 1e999, "offsets": [0], "columns": []})");
  f("graph.dot", "digraph g { 0 -> 1 }\n");
  f("graph.xyz", "");

  check_rows(
      dir,
      {
          {"missing file", {"graph", "stats", "missing.mtx"}, "cannot open 'missing.mtx'"},
          {"missing file", {"spectral", "missing.mtx"}, "cannot open 'missing.mtx'"},
          {"empty .mtx", {"graph", "stats", "empty.mtx"}, "empty.mtx: empty file"},
          {"bad .mtx header",
           {"graph", "export", "header.mtx", "--out", "x.txt"},
           "header.mtx:1: bad header: format 'array' is not supported"},
          {"truncated .mtx",
           {"graph", "stats", "trunc.mtx"},
           "trunc.mtx:5: file ends after 3 of the 4 entries declared on line 2"},
          {"truncated .mtx", {"spectral", "trunc.mtx"}, "file ends after 3 of the 4"},
          {"impossible size: dense eigen-solve beyond memory",
           {"spectral", "big.mtx", "--method", "dense"},
           "the dense eigen-solver on normalized_adjacency (n = 200000) needs"},
          {".mtx index out of range",
           {"graph", "stats", "range.mtx"},
           "range.mtx:3: row index 9 out of range [1, 3]"},
          {"NaN in .mtx", {"graph", "stats", "nan.mtx"}, "nan.mtx:3: value 'nan' is not finite"},
          {"impossible n in .mtx",
           {"graph", "stats", "huge_n.mtx"},
           "the size line declares n = 2000000000 is out of proportion to the 73-byte file"},
          {"impossible entry count in .mtx",
           {"graph", "stats", "huge_count.mtx"},
           "declares 2000000000 entries but only 4 bytes follow it"},
          {"edge list: non-numeric",
           {"graph", "stats", "nonnum.txt"},
           "nonnum.txt:2: non-numeric query index 'a'"},
          {"edge list: field count",
           {"graph", "stats", "fields.txt"},
           "fields.txt:2: found 3 fields but line 1 has 2"},
          {"Inf in edge list",
           {"graph", "stats", "inf.txt"},
           "weight 'inf' is not a finite float32"},
          {"impossible index in edge list",
           {"graph", "stats", "huge_index.txt"},
           "n = 2000000000 is out of proportion"},
          {".npy: bad magic", {"graph", "stats", "magic.npy"}, "not a .npy file (bad magic)"},
          {".npy: truncated", {"graph", "stats", "trunc.npy"}, "truncated data"},
          {".npy: wrong dtype", {"graph", "stats", "dtype.npy"}, "unsupported dtype '<f2'"},
          {".npy: wrong shape", {"graph", "stats", "shape3d.npy"}, "expected a square 2-D array"},
          {".npy: wrong shape", {"graph", "stats", "nonsquare.npy"}, "got shape (1, 4)"},
          {"NaN in .npy", {"graph", "stats", "nan.npy"}, "entry (0, 1) is nan"},
          {".npy: Fortran order", {"graph", "stats", "fortran.npy"}, "Fortran-order"},
          {"control characters quoted from a file",
           {"graph", "stats", "newline.npy"},
           "malformed .npy header: unexpected key 'de\\nscr'"},
          {"graph JSON: invalid", {"graph", "stats", "invalid.json"}, "invalid.json: invalid JSON"},
          {"graph JSON: nested too deep",
           {"graph", "stats", "deep.json"},
           "deep.json: JSON nested deeper than 128 levels"},
          {"graph JSON: invalid CSR", {"graph", "stats", "csr.json"}, "invalid graph (I4)"},
          {"graph JSON: number beyond double",
           {"graph", "stats", "overflow.json"},
           "overflow.json: invalid JSON: [json.exception.out_of_range.406]"},
          {"unknown extension",
           {"graph", "stats", "graph.xyz"},
           "unknown graph file extension '.xyz'"},
          {"export-only format", {"graph", "stats", "graph.dot"}, "export-only"},
      });
}

TEST_CASE("graph build: invalid patterns and impossible sizes", "[reliability][cli]") {
  TempDir dir;
  check_rows(
      dir, {
               {"n <= 0",
                {"graph", "build", "--n", "0", "--window", "2", "--out", "g.mtx"},
                "--n 0 must be >= 1"},
               {"n <= 0",
                {"graph", "build", "--n", "-5", "--window", "2", "--out", "g.mtx"},
                "--n -5 must be >= 1"},
               {"window < 0",
                {"graph", "build", "--n", "10", "--spec", "window=-1", "--out", "g.mtx"},
                "pattern spec: 'window=-1': value must be >= 0"},
               {"window < 0",
                {"graph", "build", "--n", "10", "--window", "-1", "--out", "g.mtx"},
                "window = -1 is negative"},
               {"unknown spec key",
                {"graph", "build", "--n", "10", "--spec", "bogus=3", "--out", "g.mtx"},
                "pattern spec: unknown key 'bogus'"},
               {"ill-typed option (usage error)",
                {"graph", "build", "--n", "abc", "--window", "1", "--out", "g.mtx"},
                "--n = abc",
                2},
               {"negative value of an unsigned option (usage error)",
                {"graph", "build", "--n", "10", "--seed", "-1", "--window", "1", "--out", "g.mtx"},
                "--seed: must be a non-negative integer",
                2},
               {"negative value of an unsigned option (usage error)",
                {"spectral", "sweep", "--patterns", "window=1", "--lengths", "8", "--seed", "-1"},
                "--seed: must be a non-negative integer",
                2},
               {"impossible size: more edges than int32",
                {"graph", "build", "--n", "2000000000", "--spec", "full", "--out", "g.mtx"},
                "has at least 4000000000000000000 edges, more than the int32 limit"},
               {"impossible size: dense n x n beyond memory",
                {"graph", "build", "--n", "1000000", "--window", "0", "--out", "g.npy", "--force"},
                "GiB of memory, more than this machine's"},
               {"dense output refused without --force",
                {"graph", "build", "--n", "100000", "--window", "0", "--out", "g.npy"},
                "refusing to write dense .npy 'g.npy'"},
               {"unknown output extension",
                {"graph", "build", "--n", "10", "--window", "1", "--out", "g.xyz"},
                "unknown graph file extension '.xyz'"},
           });
  // G > n is clamped to n by design (PatternSpec.hpp: presets carry 64 global tokens and must
  // work for short sequences): every row is then a full row.
  const CliResult r = testing::run_cli(
      DIFFUSER_CLI_BINARY, {"graph", "build", "--n", "10", "--global", "20", "--out", "g.mtx"},
      dir.path().string());
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("nnz = 100") != std::string::npos);
}

TEST_CASE("configs: malformed, unknown and ill-typed keys, NaN, too deep", "[reliability][cli]") {
  TempDir dir;
  auto f = [&](const std::string& name, const std::string& content) {
    write_file(dir.file(name), content);
  };
  f("tiny.json", kTinyConfig);
  f("malformed.json", R"({"model": {"dim": 16,}})");
  f("unknown.json", R"({"model": {"dimm": 16}})");
  f("typed.json", R"({"model": {"dim": "big"}})");
  f("range.json", R"({"optim": {"lr": 100}})");
  f("choice.json", R"({"attention": {"variant": "dense"}})");
  f("array.json", "[1, 2]");
  f("overflow.json", R"({"optim": {"lr": 1e999}})");
  f("deep.json", std::string(100000, '[') + std::string(100000, ']'));
  check_rows(
      dir,
      {
          {"missing file", {"config", "check", "missing.json"}, "cannot open 'missing.json'"},
          {"missing file",
           {"train", "--config", "missing.json", "--out", "run"},
           "cannot open 'missing.json'"},
          {"malformed JSON",
           {"config", "check", "malformed.json"},
           "malformed.json: malformed JSON: "},
          {"malformed JSON",
           {"train", "--config", "malformed.json", "--out", "run"},
           "malformed JSON"},
          {"unknown key", {"config", "check", "unknown.json"}, "unknown config key 'model.dimm'"},
          {"unknown key",
           {"train", "--config", "unknown.json", "--out", "run"},
           "unknown config key 'model.dimm'"},
          {"ill-typed key",
           {"config", "check", "typed.json"},
           "config key 'model.dim' must be an integer (got \"big\")"},
          {"value out of range",
           {"config", "check", "range.json"},
           "config key 'optim.lr' = 100 outside [0, 10]"},
          {"value not among the choices",
           {"config", "check", "choice.json"},
           "'attention.variant' = 'dense' is not one of"},
          {"not an object",
           {"config", "check", "array.json"},
           "array.json: a config must be a JSON object"},
          {"number beyond double (found by fuzz_config)",
           {"config", "check", "overflow.json"},
           "overflow.json: malformed JSON: [json.exception.out_of_range.406] number overflow"},
          {"nested too deep",
           {"config", "check", "deep.json"},
           "deep.json: JSON nested deeper than 128 levels"},
          {"unknown --set key",
           {"config", "check", "tiny.json", "--set", "model.dimm=4"},
           "--set: unknown config key 'model.dimm'"},
          {"ill-typed --set",
           {"config", "check", "tiny.json", "--set", "model.dim=1.5"},
           "'model.dim' must be an integer (got 1.5)"},
          {"ill-typed --set",
           {"config", "check", "tiny.json", "--set", "optim.lr=abc"},
           "--set optim.lr: 'abc' is not a valid number"},
          {"NaN in --set",
           {"config", "check", "tiny.json", "--set", "optim.lr=nan"},
           "'nan' is not a valid number"},
          {"malformed --set",
           {"config", "check", "tiny.json", "--set", "optim.lr"},
           "--set 'optim.lr': expected key=value"},
          {"ill-typed --set",
           {"train", "--config", "tiny.json", "--set", "train.steps=-3", "--out", "run"},
           "'train.steps' = -3 outside"},
          {"impossible size: a model beyond memory",
           {"train", "--config", "tiny.json", "--set", "model.dim=32768", "--set", "model.heads=1",
            "--set", "model.mlp_dim=262144", "--set", "model.layers=64", "--out", "run"},
           "parameters (values, gradients, two AdamW moments and the checkpoint buffers, ~64 bytes "
           "each) needs"},
      });
}

TEST_CASE("datasets: malformed TSV and IDX files", "[reliability][cli]") {
  TempDir dir;
  auto f = [&](const std::string& name, const std::string& content) {
    write_file(dir.file(name), content);
  };
  f("header.tsv", "Input\tLabel\n[MAX 1 2 ]\t2\n");
  f("fields.tsv", "Source\tTarget\n[MAX 1 2 ]\n");
  f("target.tsv", "Source\tTarget\n[MAX 1 2 ]\tx\n");
  f("token.tsv", "Source\tTarget\n[MAX 2 X ]\t2\n");
  f("label.tsv", "Source\tTarget\n[MAX 2 9 ]\t3\n");
  f("escape.tsv", "Source\tTarget\n[MAX 2 \x1b[31mX ]\t2\n");
  // A gzip member cut short: magic, method, flags, then nothing of the deflate stream.
  f("trunc_gz.tsv", std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x0b", 11));
  const std::string pixels(2 * 2 * 2, '\x07');
  auto fmnist = [&](const std::string& sub, const std::string& images, const std::string& labels) {
    std::filesystem::create_directories(dir.path() / sub);
    f(sub + "/t10k-images-idx3-ubyte", images);
    f(sub + "/t10k-labels-idx1-ubyte", labels);
  };
  fmnist("fm_trunc", idx_bytes(0x08, {2, 2, 2}, pixels.substr(0, 5)),
         idx_bytes(0x08, {2}, "\x01\x02"));
  fmnist("fm_type", idx_bytes(0x0D, {2, 2, 2}, pixels), idx_bytes(0x08, {2}, "\x01\x02"));
  fmnist("fm_label", idx_bytes(0x08, {2, 2, 2}, pixels), idx_bytes(0x08, {2}, "\x01\x0c"));
  fmnist("fm_count", idx_bytes(0x08, {2, 2, 2}, pixels), idx_bytes(0x08, {3}, "\x01\x02\x03"));
  check_rows(dir, {
                      {"missing file",
                       {"data", "stats", "listops", "missing.tsv"},
                       "cannot open 'missing.tsv'"},
                      {"impossible size: a dataset beyond memory",
                       {"data", "listops", "--out", "lo", "--train", "2000000000"},
                       "ListOps: 2000000000 examples of more than 500 tokens needs"},
                      {"TSV: wrong header",
                       {"data", "stats", "listops", "header.tsv"},
                       "header.tsv:1: expected the header 'Source<TAB>Target'"},
                      {"TSV: field count",
                       {"data", "stats", "listops", "fields.tsv"},
                       "fields.tsv:2: expected 2 tab-separated fields"},
                      {"TSV: bad label",
                       {"data", "stats", "listops", "target.tsv"},
                       "target.tsv:2: Target 'x' is not a digit 0..9"},
                      {"TSV: unknown token",
                       {"data", "stats", "listops", "token.tsv"},
                       "token.tsv:2: unknown ListOps token 'X'"},
                      {"TSV: wrong label",
                       {"data", "stats", "listops", "label.tsv"},
                       "label.tsv:2: Target is 3 but the Source evaluates to 9"},
                      {"control characters quoted from a file",
                       {"data", "stats", "listops", "escape.tsv"},
                       "unknown ListOps token '\\x1b[31mX'"},
                      {"truncated gzip",
                       {"data", "stats", "listops", "trunc_gz.tsv"},
                       "corrupt or truncated compressed data"},
                      {"missing folder",
                       {"data", "stats", "fashion-mnist", "nowhere"},
                       "Fashion-MNIST: neither"},
                      {"IDX: truncated",
                       {"data", "stats", "fashion-mnist", "fm_trunc"},
                       "truncated IDX file: header promises 8 data bytes, found 5"},
                      {"IDX: wrong dtype",
                       {"data", "stats", "fashion-mnist", "fm_type"},
                       "IDX type code 0x0d is not supported"},
                      {"IDX: label out of range",
                       {"data", "stats", "fashion-mnist", "fm_label"},
                       "label 12 of item 1 outside [0, 10)"},
                      {"IDX: count mismatch",
                       {"data", "stats", "fashion-mnist", "fm_count"},
                       "holds 3 labels but"},
                  });
}

TEST_CASE("checkpoints: truncated, bit-flipped, wrong file, non-finite values",
          "[reliability][cli]") {
  TempDir dir;
  write_file(dir.file("tiny.json"), kTinyConfig);
  const CliResult trained = testing::run_cli(
      DIFFUSER_CLI_BINARY, {"train", "--config", "tiny.json", "--out", "run", "--quiet"},
      dir.path().string());
  REQUIRE(trained.exit_code == 0);
  const std::string good = read_text_file(dir.file("run/checkpoint_last.bin"));
  REQUIRE(good.size() > 1000);
  write_file(dir.file("trunc.bin"), good.substr(0, good.size() / 2));
  std::string flipped = good;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x10);
  write_file(dir.file("flipped.bin"), flipped);
  write_file(dir.file("empty.bin"), "");
  const auto ckpt = nn::load_checkpoint(dir.file("run/checkpoint_last.bin"));
  const std::string first_param = [&] {
    for (const auto& t : ckpt.tensors()) {
      if (t.name.rfind("param/", 0) == 0) return t.name;
    }
    return std::string();
  }();
  REQUIRE(!first_param.empty());
  // A NaN parameter in a checkpoint next to its run's data (eval finds the data there).
  std::filesystem::copy(dir.path() / "run", dir.path() / "nan_run",
                        std::filesystem::copy_options::recursive);
  nn::save_checkpoint(dir.file("nan_run/nan.bin"),
                      with_poisoned_value(ckpt, first_param, std::nanf("")));
  // A run folder whose checkpoint holds an Inf parameter: resuming must refuse it.
  std::filesystem::copy(dir.path() / "run", dir.path() / "inf_run",
                        std::filesystem::copy_options::recursive);
  nn::save_checkpoint(
      dir.file("inf_run/checkpoint_last.bin"),
      with_poisoned_value(ckpt, first_param, std::numeric_limits<float>::infinity()));
  check_rows(
      dir,
      {
          {"missing file", {"eval", "--checkpoint", "missing.bin"}, "cannot open 'missing.bin'"},
          {"truncated checkpoint",
           {"eval", "--checkpoint", "trunc.bin"},
           "checkpoint 'trunc.bin': truncated"},
          {"empty checkpoint",
           {"eval", "--checkpoint", "empty.bin"},
           "checkpoint 'empty.bin': truncated: 0 bytes"},
          {"bit-flipped checkpoint",
           {"eval", "--checkpoint", "flipped.bin"},
           "checkpoint 'flipped.bin': checksum mismatch"},
          {"not a checkpoint",
           {"eval", "--checkpoint", "tiny.json"},
           "not a diffuser checkpoint (wrong magic bytes)"},
          {"NaN in a checkpoint",
           {"eval", "--checkpoint", "nan_run/nan.bin"},
           "tensor '" + first_param + "' holds a non-finite value (nan) at element 0"},
          {"Inf in a checkpoint",
           {"train", "--out", "inf_run", "--resume", "--set", "train.steps=4", "--quiet"},
           "holds a non-finite value (inf) at element 0"},
          {"bad --data",
           {"eval", "--checkpoint", "run/checkpoint_last.bin", "--data", "nowhere"},
           "--data nowhere: no such split"},
          {"run folder in use",
           {"train", "--config", "tiny.json", "--out", "run"},
           "the folder already holds a run"},
      });
}

TEST_CASE("unwritable output paths", "[reliability][cli]") {
  TempDir dir;
  write_file(dir.file("ok.mtx"),
             "%%MatrixMarket matrix coordinate pattern general\n2 2 2\n1 1\n2 2\n");
  write_file(dir.file("tiny.json"), kTinyConfig);
  check_rows(dir, {
                      {"unwritable --out",
                       {"graph", "build", "--n", "10", "--window", "1", "--out", "/proc/x/y.mtx"},
                       "cannot write '/proc/x/y.mtx': No such file or directory"},
                      {"unwritable --out",
                       {"graph", "export", "ok.mtx", "--out", "/proc/x/y.txt"},
                       "cannot write '/proc/x/y.txt'"},
                      {"unwritable --out",
                       {"spectral", "ok.mtx", "--out", "/proc/x/y.json"},
                       "cannot write '/proc/x/y.json'"},
                      {"unwritable --out",
                       {"data", "listops", "--out", "/proc/x", "--train", "4", "--val", "2",
                        "--test", "2", "--min-len", "4", "--max-len", "30"},
                       "cannot create output directory '/proc/x'"},
                      {"unwritable --out",
                       {"train", "--config", "tiny.json", "--out", "/proc/x/run"},
                       "/proc/x/run: cannot create the run folder"},
                  });
}

TEST_CASE("tensors for `attention`: wrong dtypes and shapes, NaN; other commands' inputs",
          "[reliability][cli]") {
  TempDir dir;
  auto f = [&](const std::string& name, const std::string& content) {
    write_file(dir.file(name), content);
  };
  f("g.mtx", "%%MatrixMarket matrix coordinate pattern general\n4 4 4\n1 1\n2 2\n3 3\n4 4\n");
  const std::vector<float> ones(16, 1.0f);
  std::vector<float> with_nan = ones;
  with_nan[6] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<double> ones64(16, 1.0);
  const std::vector<std::int32_t> ints(16, 1);
  f("q.npy", npy_bytes(NpyArray::from<float>(ones, {4, 4})));
  f("q3.npy", npy_bytes(NpyArray::from<float>(std::span(ones).first(12), {3, 4})));
  f("q64.npy", npy_bytes(NpyArray::from<double>(ones64, {4, 4})));
  f("qint.npy", npy_bytes(NpyArray::from<std::int32_t>(ints, {4, 4})));
  f("qflat.npy", npy_bytes(NpyArray::from<float>(ones, {16})));
  f("qnan.npy", npy_bytes(NpyArray::from<float>(with_nan, {4, 4})));
  f("trunc.mtx", "%%MatrixMarket matrix coordinate pattern general\n4 4 4\n1 1\n");
  f("trunc.bin", "DIFFCKPT\x01");
  auto attention = [](const std::string& q, const std::vector<std::string>& more) {
    std::vector<std::string> args = {"attention", "--graph", "g.mtx", "--q",   q,
                                     "--k",       "q.npy",   "--v",   "q.npy", "--alpha",
                                     "0.1",       "--hops",  "2",     "--out", "z.npy"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  check_rows(
      dir,
      {
          {"tensor shape mismatch", attention("q3.npy", {"--heads", "2"}),
           "q.npy (--k) has shape [4, 4] but q3.npy (--q) has [3, 4]"},
          {"mixed dtypes", attention("q64.npy", {"--heads", "2"}),
           "mixed dtypes: q64.npy (--q) is float64"},
          {"wrong dtype", attention("qint.npy", {"--heads", "2"}), "qint.npy (--q): dtype <i4"},
          {"wrong rank", attention("qflat.npy", {"--heads", "2"}),
           "qflat.npy (--q): shape [16] is not 2-D"},
          {"NaN in a tensor", attention("qnan.npy", {"--heads", "2"}),
           "qnan.npy (--q): element [1, 2] is nan"},
          {"heads do not divide the width", attention("q.npy", {"--heads", "3"}),
           "--heads 3 does not divide the width 4"},
          {"truncated graph",
           {"viz", "pattern", "trunc.mtx", "--out", "v"},
           "trunc.mtx:2: the size line declares 4 entries"},
          {"truncated checkpoint",
           {"viz", "attention", "--checkpoint", "trunc.bin", "--out", "v"},
           "checkpoint 'trunc.bin': truncated"},
          {"impossible size: dense n x n beyond memory",
           {"spectral", "approx", "--lengths", "2000000000", "--pattern", "full"},
           "n x n buffers, above the limit"},
          {"hop target out of range",
           {"spectral", "suggest-hops", "--n", "40", "--spec", "window=2", "--epsilon", "2"},
           "--epsilon = 2 outside (0, 1]"},
      });
}
