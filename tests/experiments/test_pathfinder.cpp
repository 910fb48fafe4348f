// Why: a Pathfinder label is only worth something if it matches the picture. Every generated
// image is re-labelled by the independent pixel checker; the checker itself is tested on
// hand-drawn images around its documented radius; the PNG codec is checked against a filtering
// encoder written here; the loader is run on valid and broken LRA-style folders.
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "experiments/data/Cifar10.hpp"
#include "experiments/data/FashionMnist.hpp"
#include "experiments/data/PathfinderCheck.hpp"
#include "experiments/data/PathfinderGenerator.hpp"
#include "experiments/data/PathfinderLoader.hpp"
#include "experiments/data/PngImage.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::experiments;
using Catch::Matchers::Contains;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), {}};
}

void put_be32(std::string& s, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xFF));
}

std::string chunk(const std::string& type, const std::string& data) {
  std::string out;
  put_be32(out, static_cast<std::uint32_t>(data.size()));
  const std::string body = type + data;
  out += body;
  put_be32(out, static_cast<std::uint32_t>(
                    crc32(0L, reinterpret_cast<const Bytef*>(body.data()), body.size())));
  return out;
}

// An independent PNG writer: raw channel bytes, row r filtered with filters[r % size] (0..4).
struct TestPng {
  int width = 0, height = 0, colour_type = 0, channels = 1, depth = 8, interlace = 0;
  std::vector<std::uint8_t> raw;  // height * width * channels
  std::vector<int> filters = {0};
  std::string palette;            // PLTE data for colour type 3
  std::string extra_before_idat;  // extra chunks
  bool iend = true;

  std::string encode() const {
    const int stride = width * channels;
    std::string filtered;
    for (int y = 0; y < height; ++y) {
      const int f = filters[static_cast<std::size_t>(y) % filters.size()];
      filtered.push_back(static_cast<char>(f));
      for (int i = 0; i < stride; ++i) {
        const int x = raw[static_cast<std::size_t>(y * stride + i)];
        const int a = i >= channels ? raw[static_cast<std::size_t>(y * stride + i - channels)] : 0;
        const int b = y > 0 ? raw[static_cast<std::size_t>((y - 1) * stride + i)] : 0;
        const int c = (y > 0 && i >= channels)
                          ? raw[static_cast<std::size_t>((y - 1) * stride + i - channels)]
                          : 0;
        int pred = 0;
        if (f == 1) pred = a;
        if (f == 2) pred = b;
        if (f == 3) pred = (a + b) / 2;
        if (f == 4) {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
        }
        filtered.push_back(static_cast<char>((x - pred) & 0xFF));
      }
    }
    uLongf size = compressBound(filtered.size());
    std::string z(size, '\0');
    REQUIRE(compress(reinterpret_cast<Bytef*>(z.data()), &size,
                     reinterpret_cast<const Bytef*>(filtered.data()), filtered.size()) == Z_OK);
    z.resize(size);
    std::string ihdr;
    put_be32(ihdr, static_cast<std::uint32_t>(width));
    put_be32(ihdr, static_cast<std::uint32_t>(height));
    ihdr += static_cast<char>(depth);
    ihdr += static_cast<char>(colour_type);
    ihdr += std::string(2, '\0');
    ihdr += static_cast<char>(interlace);
    std::string out = "\x89PNG\r\n\x1a\n";
    out += chunk("IHDR", ihdr);
    if (!palette.empty()) out += chunk("PLTE", palette);
    out += extra_before_idat;
    // Two IDAT chunks: the reader must concatenate them.
    out += chunk("IDAT", z.substr(0, z.size() / 2));
    out += chunk("IDAT", z.substr(z.size() / 2));
    if (iend) out += chunk("IEND", "");
    return out;
  }
};

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng.uniform_below(256));
  return v;
}

TestPng grey_png(int w, int h, std::uint64_t seed) {
  TestPng p;
  p.width = w;
  p.height = h;
  p.raw = random_bytes(static_cast<std::size_t>(w * h), seed);
  return p;
}

// A blank image with hand-drawn content: set(x, y, v).
struct Sketch {
  int side;
  std::vector<std::int32_t> px;
  explicit Sketch(int s) : side(s), px(static_cast<std::size_t>(s * s), 0) {}
  void set(int x, int y, int v) { px[static_cast<std::size_t>(y * side + x)] = v; }
  void hline(int x0, int x1, int y, int v = 150) {
    for (int x = x0; x <= x1; ++x) set(x, y, v);
  }
  void marker(int cx, int cy) {
    for (int y = cy - 1; y <= cy + 1; ++y) {
      for (int x = cx - 1; x <= cx + 1; ++x) set(x, y, 255);
    }
  }
  PathfinderVerdict check() const { return check_pathfinder_image(px, side, side); }
};

// Counts how many generated examples the checker labels like the generator.
void expect_checker_agrees(std::int32_t size, std::size_t count, std::uint64_t seed) {
  const auto start = std::chrono::steady_clock::now();
  const PathfinderGenerator gen(pathfinder_options(size, seed));
  const SequenceDataset data = gen.generate(count);
  const double gen_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(data.size() == count);
  std::size_t agree = 0, undecided = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const PathfinderVerdict v = check_pathfinder_image(data.tokens(i), size, size);
    if (v.label < 0) ++undecided;
    if (v.label == data.label(i)) {
      ++agree;
    } else {
      UNSCOPED_INFO("size " << size << " example " << i << ": generator " << data.label(i)
                            << ", checker " << v.label << " (" << v.markers << " markers)");
    }
  }
  const double total_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("pathfinder %d: %zu examples generated in %.3f s, generated + checked in %.3f s\n",
              size, count, gen_s, total_s);
  CHECK(undecided == 0);
  CHECK(agree == count);
}

}  // namespace

TEST_CASE("PNG round trip: encode, decode, write, read", "[cpu][pathfinder][io]") {
  testing::TempDir dir;
  PngImage image;
  image.width = 37;
  image.height = 23;
  image.pixels = random_bytes(37 * 23, 5);
  const std::string bytes = encode_png(image);
  REQUIRE(bytes.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n"));
  CHECK(bytes.substr(12, 4) == "IHDR");
  CHECK(static_cast<unsigned char>(bytes[24]) == 8);  // bit depth
  CHECK(bytes[25] == 0);                              // colour type grey
  const PngImage back = decode_png(bytes, "mem.png");
  CHECK(back.width == 37);
  CHECK(back.height == 23);
  CHECK(back.pixels == image.pixels);
  write_png(dir.file("a.png"), image);
  CHECK(read_bytes(dir.file("a.png")) == bytes);
  CHECK(read_png(dir.file("a.png")).pixels == image.pixels);
  PngImage wrong = image;
  wrong.pixels.pop_back();
  CHECK_THROWS_WITH(encode_png(wrong), Contains("pixels"));
}

TEST_CASE("the PNG reader undoes all five row filters and reduces colour to grey",
          "[cpu][pathfinder][io]") {
  TestPng grey = grey_png(9, 11, 7);
  grey.filters = {0, 1, 2, 3, 4};
  grey.extra_before_idat = chunk("tEXt", std::string("Comment\0x", 9));  // ancillary: skipped
  PngImage got = decode_png(grey.encode(), "grey.png");
  CHECK(got.width == 9);
  CHECK(got.height == 11);
  CHECK(got.pixels == grey.raw);

  // RGB (colour type 2) and RGBA (6): grey is the luma of the first three channels.
  TestPng rgb;
  rgb.width = 6;
  rgb.height = 5;
  rgb.filters = {4, 3, 2, 1, 0};
  for (const int channels : {3, 4}) {
    rgb.colour_type = channels == 3 ? 2 : 6;
    rgb.channels = channels;
    rgb.raw = random_bytes(static_cast<std::size_t>(6 * 5 * channels), 8);
    got = decode_png(rgb.encode(), "rgb.png");
    REQUIRE(got.pixels.size() == 30);
    for (std::size_t i = 0; i < 30; ++i) {
      const std::uint8_t* px = rgb.raw.data() + i * static_cast<std::size_t>(channels);
      CHECK(got.pixels[i] == cifar10_gray(px[0], px[1], px[2]));
    }
  }

  TestPng grey_alpha = rgb;
  grey_alpha.colour_type = 4;
  grey_alpha.channels = 2;
  grey_alpha.raw = random_bytes(6 * 5 * 2, 10);
  got = decode_png(grey_alpha.encode(), "ga.png");
  for (std::size_t i = 0; i < 30; ++i) CHECK(got.pixels[i] == grey_alpha.raw[2 * i]);

  TestPng pal = grey_png(4, 3, 11);
  pal.colour_type = 3;
  for (auto& b : pal.raw) b %= 3;
  pal.palette = std::string("\x00\x00\x00\xff\xff\xff\x10\x80\x20", 9);
  got = decode_png(pal.encode(), "pal.png");
  const std::uint8_t levels[3] = {0, 255, cifar10_gray(0x10, 0x80, 0x20)};
  for (std::size_t i = 0; i < 12; ++i) CHECK(got.pixels[i] == levels[pal.raw[i]]);
}

TEST_CASE("malformed PNGs are errors naming the file and the problem", "[cpu][pathfinder][io]") {
  const TestPng good = grey_png(8, 8, 3);
  const std::string bytes = good.encode();
  REQUIRE(decode_png(bytes, "ok.png").pixels == good.raw);
  auto expect = [](const std::string& data, const std::string& text) {
    CHECK_THROWS_WITH(decode_png(data, "bad.png"), Contains("bad.png") && Contains(text));
  };
  expect("GIF89a", "bad signature");
  expect(bytes.substr(0, bytes.size() / 2), "truncated");
  std::string flipped = bytes;
  flipped[40] = static_cast<char>(~flipped[40]);
  expect(flipped, "bad CRC");
  TestPng deep = good;
  deep.depth = 16;
  expect(deep.encode(), "bit depth 16");
  TestPng interlaced = good;
  interlaced.interlace = 1;
  expect(interlaced.encode(), "interlaced");
  TestPng no_end = good;
  no_end.iend = false;
  expect(no_end.encode(), "no IEND");
  TestPng bad_filter = good;
  bad_filter.filters = {0, 7};
  expect(bad_filter.encode(), "filter type 7");
  TestPng critical = good;
  critical.extra_before_idat = chunk("ABCD", "x");
  expect(critical.encode(), "unknown critical PNG chunk 'ABCD'");
  TestPng no_palette = good;
  no_palette.colour_type = 3;
  expect(no_palette.encode(), "without a PLTE");
  // IHDR says 8 rows but the data holds 6.
  TestPng short_data = good;
  short_data.height = 6;
  short_data.raw.resize(48);
  std::string cut = short_data.encode();
  std::string ihdr = cut.substr(16, 13);
  ihdr[7] = 8;
  cut = cut.substr(0, 8) + chunk("IHDR", ihdr) + cut.substr(8 + 25);
  expect(cut, "truncated (54 of 72 bytes)");
  testing::TempDir dir;
  CHECK_THROWS_WITH(read_png(dir.file("none.png")), Contains("none.png"));
}

TEST_CASE("the checker follows its documented thresholds and link distance", "[cpu][pathfinder]") {
  // A dashed line with gaps of 1 blank pixel joins its markers (link distance 2 bridges them).
  Sketch s(32);
  s.marker(3, 10);
  s.hline(5, 7, 10);
  s.hline(9, 11, 10);  // pixel 8 blank
  s.hline(13, 15, 10);
  s.marker(17, 10);
  PathfinderVerdict v = s.check();
  CHECK(v.markers == 2);
  CHECK(v.label == 1);
  CHECK(v.components == 1);
  // A gap of 2 blank pixels breaks it, unless the link distance is 3 (a 3x3 dilation).
  s.set(13, 10, 0);  // 12, 13 blank
  CHECK(s.check().label == 0);
  PathfinderCheckOptions wide;
  wide.link_distance = 3;
  CHECK(check_pathfinder_image(s.px, 32, 32, wide).label == 1);
  PathfinderCheckOptions plain;
  plain.link_distance = 1;
  s.set(13, 10, 150);
  CHECK(check_pathfinder_image(s.px, 32, 32, plain).label == 0);
  // Pixels below the ink threshold are background.
  Sketch faint(32);
  faint.marker(3, 3);
  faint.hline(5, 20, 3, 63);
  faint.marker(22, 3);
  CHECK(faint.check().label == 0);
  faint.hline(5, 20, 3, 64);
  CHECK(faint.check().label == 1);
  // Two snakes 3 apart (2 blank rows) stay apart; 2 apart merge.
  Sketch two(32);
  two.marker(2, 5);
  two.hline(4, 20, 5);
  two.hline(8, 25, 8);
  two.marker(27, 8);
  CHECK(two.check().label == 0);
  CHECK(two.check().components == 2);
  two.hline(4, 20, 7);
  CHECK(two.check().label == 1);
  // One marker, or three, cannot be decided.
  Sketch one(32);
  one.marker(10, 10);
  CHECK(one.check().label == -1);
  CHECK(one.check().markers == 1);
  one.marker(20, 10);
  one.marker(10, 20);
  CHECK(one.check().markers == 3);
  CHECK(one.check().label == -1);
  CHECK_THROWS_WITH(check_pathfinder_image(one.px, 31, 32), Contains("pixels given"));
  one.set(0, 0, 256);
  CHECK_THROWS_WITH(check_pathfinder_image(one.px, 32, 32), Contains("outside 0..255"));
}

TEST_CASE("generated images have the documented shape, grey levels and markers",
          "[cpu][pathfinder]") {
  for (const std::int32_t size : {32, 64}) {
    const PathfinderOptions o = pathfinder_options(size, 3);
    const SequenceDataset d = PathfinderGenerator(o).generate(20);
    CHECK(d.name() == "pathfinder" + std::to_string(size));
    CHECK(d.vocab_size() == 256);
    CHECK(d.num_classes() == 2);
    CHECK(d.class_names() == std::vector<std::string>{"disconnected", "connected"});
    for (std::size_t i = 0; i < d.size(); ++i) {
      REQUIRE(d.length(i) == static_cast<std::size_t>(size * size));
      std::size_t marker_pixels = 0, ink = 0;
      for (const std::int32_t p : d.tokens(i)) {
        const bool ok = p == 0 || p == 255 || (p >= o.ink_min && p <= o.ink_max);
        CHECK(ok);
        marker_pixels += p == 255;
        ink += p != 0;
      }
      CHECK(marker_pixels == static_cast<std::size_t>(2 * o.marker_side * o.marker_side));
      CHECK(ink > marker_pixels + 40);  // snakes are drawn, not only markers
    }
  }
  CHECK_THROWS_WITH(pathfinder_options(48), Contains("32 or 64"));
  PathfinderOptions bad = pathfinder_options(32);
  bad.gap_length = 3;
  CHECK_THROWS_WITH(PathfinderGenerator{bad}, Contains("gap_length"));
  bad = pathfinder_options(32);
  bad.marker_side = 4;
  CHECK_THROWS_WITH(PathfinderGenerator{bad}, Contains("marker_side"));
  bad = pathfinder_options(32);
  bad.contour_segments = 200;
  bad.max_image_attempts = 3;
  CHECK_THROWS_WITH(PathfinderGenerator(bad).generate(1), Contains("could not place"));
}

TEST_CASE("the generator is deterministic, and labels are balanced and shuffled",
          "[cpu][pathfinder]") {
  const PathfinderGenerator a(pathfinder_options(32, 11));
  const PathfinderGenerator b(pathfinder_options(32, 11));
  const PathfinderGenerator c(pathfinder_options(32, 12));
  const SequenceDataset da = a.generate(200), db = b.generate(200), dc = c.generate(200);
  CHECK(std::vector<std::int32_t>(da.all_tokens().begin(), da.all_tokens().end()) ==
        std::vector<std::int32_t>(db.all_tokens().begin(), db.all_tokens().end()));
  CHECK(std::vector<std::int32_t>(da.labels().begin(), da.labels().end()) ==
        std::vector<std::int32_t>(db.labels().begin(), db.labels().end()));
  CHECK(std::vector<std::int32_t>(da.all_tokens().begin(), da.all_tokens().end()) !=
        std::vector<std::int32_t>(dc.all_tokens().begin(), dc.all_tokens().end()));
  CHECK(da.class_counts() == std::vector<std::int64_t>{100, 100});
  CHECK(a.generate(7).class_counts() == std::vector<std::int64_t>{4, 3});
  std::size_t ones_first_half = 0;
  for (std::size_t i = 0; i < 100; ++i) ones_first_half += da.label(i);
  CHECK(ones_first_half > 30);
  CHECK(ones_first_half < 70);
  // Example i depends only on (seed, i, label).
  const auto image = a.draw(da.label(5), 5);
  CHECK(std::equal(image.begin(), image.end(), da.tokens(5).begin(), da.tokens(5).end()));
  // No two images are the same.
  std::set<std::vector<std::int32_t>> distinct;
  for (std::size_t i = 0; i < da.size(); ++i) {
    distinct.emplace(da.tokens(i).begin(), da.tokens(i).end());
  }
  CHECK(distinct.size() == da.size());
}

TEST_CASE("the independent checker agrees with the generator (200 per size)", "[cpu][pathfinder]") {
  expect_checker_agrees(32, 200, 1);
  expect_checker_agrees(64, 200, 1);
}

TEST_CASE("the agreement is not vacuous: a checker that links too far disagrees",
          "[cpu][pathfinder]") {
  // Different snakes come as close as 3 pixels; linking at distance 3 merges some of them, so
  // some negatives must turn positive (and thresholds above the ink hide the snakes).
  const SequenceDataset d = PathfinderGenerator(pathfinder_options(32, 6)).generate(200);
  PathfinderCheckOptions too_far;
  too_far.link_distance = 3;
  PathfinderCheckOptions blind;
  blind.ink_threshold = 201;
  std::size_t merged = 0, broken = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    merged += check_pathfinder_image(d.tokens(i), 32, 32, too_far).label != d.label(i);
    broken += check_pathfinder_image(d.tokens(i), 32, 32, blind).label != d.label(i);
  }
  CHECK(merged > 0);
  CHECK(broken == 100);  // every positive loses its snake, every negative stays negative
}

TEST_CASE("the independent checker agrees with the generator (2,000 per size)",
          "[slow][pathfinder]") {
  expect_checker_agrees(32, 2000, 2);
  expect_checker_agrees(64, 2000, 2);
}

TEST_CASE("LRA layout: written files load back identically, twice the same bytes",
          "[cpu][pathfinder][io]") {
  testing::TempDir dir;
  const PathfinderOptions o = pathfinder_options(32, 4);
  const SequenceDataset data = PathfinderGenerator(o).generate(53);  // batches of 25: 3 folders
  const std::string out = dir.file("pf32");
  write_pathfinder_files(out, data, o, 25);
  CHECK(std::filesystem::exists(out + "/imgs/0/sample_24.png"));
  CHECK(std::filesystem::exists(out + "/imgs/2/sample_2.png"));
  CHECK(!std::filesystem::exists(out + "/imgs/2/sample_3.png"));
  const std::string meta1 = read_bytes(out + "/metadata/1.npy");
  CHECK(meta1.rfind(
            "imgs/1 sample_0.png 0 " + std::to_string(data.label(25)) + " 24 12 3 2 1 2 1\n", 0) ==
        0);
  const SequenceDataset back = load_pathfinder(out, 32);
  REQUIRE(back.size() == data.size());
  CHECK(back.name() == "pathfinder32");
  CHECK(back.class_names() == data.class_names());
  for (std::size_t i = 0; i < data.size(); ++i) {
    REQUIRE(back.label(i) == data.label(i));
    REQUIRE(std::equal(back.tokens(i).begin(), back.tokens(i).end(), data.tokens(i).begin(),
                       data.tokens(i).end()));
  }
  const SequenceDataset compact = load_idx_classification(
      out + "/images-idx3-ubyte", out + "/labels-idx1-ubyte", 2, "pathfinder32");
  REQUIRE(compact.size() == data.size());
  CHECK(std::equal(compact.all_tokens().begin(), compact.all_tokens().end(),
                   data.all_tokens().begin(), data.all_tokens().end()));
  CHECK(std::equal(compact.labels().begin(), compact.labels().end(), data.labels().begin(),
                   data.labels().end()));
  // Same seed, same bytes.
  const std::string again = dir.file("again");
  write_pathfinder_files(again, PathfinderGenerator(o).generate(53), o, 25);
  for (const char* f : {"metadata/0.npy", "metadata/1.npy", "imgs/0/sample_17.png",
                        "imgs/2/sample_2.png", "images-idx3-ubyte", "labels-idx1-ubyte"}) {
    CHECK(read_bytes(out + "/" + f) == read_bytes(again + "/" + f));
  }
  // No temporary files are left behind.
  for (const auto& e : std::filesystem::recursive_directory_iterator(out)) {
    CHECK(e.path().string().find(".tmp.") == std::string::npos);
  }
}

TEST_CASE("the loader reads official-style metadata and names file and line on errors",
          "[cpu][pathfinder][io]") {
  testing::TempDir dir;
  const std::string root = dir.file("curv_baseline");
  std::filesystem::create_directories(root + "/imgs/0");
  std::filesystem::create_directories(root + "/metadata");
  PngImage img;
  img.width = img.height = 32;
  img.pixels = random_bytes(1024, 1);
  write_png(root + "/imgs/0/sample_0.png", img);
  img.pixels = random_bytes(1024, 2);
  write_png(root + "/imgs/0/sample_1.png", img);
  // Official lines carry 11 fields; CRLF and blank lines are accepted; "2.npy" before "10.npy".
  testing::write_file(root + "/metadata/10.npy",
                      "imgs/0 sample_0.png 0 1 1.0 14 4 2 0.5 1 1\r\n\r\n");
  testing::write_file(root + "/metadata/2.npy", "imgs/0 sample_1.png 1 0 1.0 14 4 2 0.5 1 1\n");
  SequenceDataset d = load_pathfinder(root);
  REQUIRE(d.size() == 2);
  CHECK(d.label(0) == 0);
  CHECK(d.label(1) == 1);
  CHECK(d.tokens(0)[0] == img.pixels[0]);
  CHECK(d.tokens(1).size() == 1024);

  auto expect = [&](const std::string& text) {
    CHECK_THROWS_WITH(load_pathfinder(root), Contains(text));
  };
  auto meta = [&](const std::string& content) {
    testing::write_file(root + "/metadata/2.npy", content);
  };
  meta("imgs/0 sample_1.png 1\n");
  expect("2.npy:1: expected at least 4 fields");
  meta("imgs/0 sample_1.png 1 0\nimgs/0 sample_1.png 1 2\n");
  expect("2.npy:2: label '2' is not 0 or 1");
  meta("imgs/0 sample_9.png 9 0\n");
  expect("2.npy:1: image '" + root + "/imgs/0/sample_9.png' does not exist");
  meta(std::string("\x93NUMPY\x01\x00", 8));
  expect("2.npy: is a binary numpy array");
  testing::write_file(root + "/imgs/0/sample_5.png", "not a png at all");
  meta("imgs/0 sample_5.png 5 1\n");
  expect("2.npy:1: " + root + "/imgs/0/sample_5.png: not a PNG file");
  PngImage small;
  small.width = small.height = 16;
  small.pixels.assign(256, 7);
  write_png(root + "/imgs/0/sample_6.png", small);
  meta("imgs/0 sample_6.png 6 1\n");
  expect("10.npy:1: image '" + root + "/imgs/0/sample_0.png' is 32x32, expected 16x16");
  CHECK_THROWS_WITH(load_pathfinder(root, 32), Contains("sample_6.png' is 16x16, expected 32x32"));
  PngImage wide;
  wide.width = 32;
  wide.height = 16;
  wide.pixels.assign(512, 7);
  write_png(root + "/imgs/0/sample_7.png", wide);
  meta("imgs/0 sample_7.png 7 1\n");
  expect("sample_7.png' is 32x16, not square");
  meta("\n");
  std::filesystem::remove(root + "/metadata/10.npy");
  expect("list no image");
  std::filesystem::remove(root + "/metadata/2.npy");
  expect("holds no .npy metadata file");
  std::filesystem::remove_all(root + "/metadata");
  expect("has no metadata/ directory");
  CHECK_THROWS_WITH(load_pathfinder(dir.file("nowhere")), Contains("nowhere' is not a directory"));
}
