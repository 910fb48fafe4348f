// Why: image tasks read binary formats (IDX, CIFAR-10 records) where an off-by-one or a
// truncated download would silently shift every pixel. The readers are checked on small files
// written here, including corrupt ones, and on Debian's Fashion-MNIST when it is installed.
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "experiments/data/Cifar10.hpp"
#include "experiments/data/CompressedFile.hpp"
#include "experiments/data/FashionMnist.hpp"
#include "experiments/data/IdxArray.hpp"
#include "experiments/data/ImagePadding.hpp"
#include "experiments/tasks/TaskRegistry.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::experiments;
using Catch::Matchers::Contains;

namespace {

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string idx(std::uint8_t type, const std::vector<std::uint32_t>& dims,
                const std::vector<std::uint8_t>& data) {
  std::string s{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (const auto d : dims) s += be32(d);
  s.append(data.begin(), data.end());
  return s;
}

void write_gzip(const std::string& path, const std::string& content) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, content.data(), static_cast<unsigned>(content.size())) ==
          static_cast<int>(content.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

// Three 2x3 images with pixel value 10 * image + position, labels 4, 0, 9.
std::vector<std::uint8_t> small_pixels() {
  std::vector<std::uint8_t> px;
  for (int i = 0; i < 3; ++i) {
    for (int p = 0; p < 6; ++p)
      px.push_back(static_cast<std::uint8_t>(10 * i + p + 200 * (p == 5)));
  }
  return px;
}

}  // namespace

TEST_CASE("gzip and plain files read to the same bytes; corrupt gzip is an error", "[cpu][io]") {
  testing::TempDir dir;
  std::string content;
  for (int i = 0; i < 100000; ++i) content += static_cast<char>((i * 7919) % 251);
  write_gzip(dir.file("a.gz"), content);
  testing::write_file(dir.file("a.bin"), content);
  CHECK(read_compressed_file(dir.file("a.gz")) == content);
  CHECK(read_compressed_file(dir.file("a.bin")) == content);
  std::string compressed;
  {
    std::ifstream in(dir.file("a.gz"), std::ios::binary);
    compressed.assign(std::istreambuf_iterator<char>(in), {});
  }
  REQUIRE(compressed.size() > 100);
  testing::write_file(dir.file("cut.gz"), compressed.substr(0, compressed.size() / 2));
  CHECK_THROWS_WITH(read_compressed_file(dir.file("cut.gz")),
                    Contains("cut.gz") && Contains("truncated"));
  std::string flipped = compressed;
  for (std::size_t i = 20; i < 60; ++i) flipped[i] = static_cast<char>(~flipped[i]);
  testing::write_file(dir.file("bad.gz"), flipped);
  CHECK_THROWS_WITH(read_compressed_file(dir.file("bad.gz")), Contains("bad.gz"));
  CHECK_THROWS_WITH(read_compressed_file(dir.file("none.gz")), Contains("none.gz"));
  CHECK_THROWS_WITH(read_compressed_file(dir.path().string()), Contains("is a directory"));
}

TEST_CASE("IDX images and labels become row-major pixel sequences", "[cpu][io][image]") {
  testing::TempDir dir;
  const auto px = small_pixels();
  write_gzip(dir.file("img.gz"), idx(0x08, {3, 2, 3}, px));
  testing::write_file(dir.file("lab"), idx(0x08, {3}, {4, 0, 9}));
  const auto data = load_idx_classification(dir.file("img.gz"), dir.file("lab"), 10, "tiny");
  REQUIRE(data.size() == 3);
  CHECK(data.vocab_size() == 256);
  CHECK(data.num_classes() == 10);
  const std::vector<std::int32_t> labels = {4, 0, 9};
  for (std::size_t i = 0; i < 3; ++i) {
    REQUIRE(data.length(i) == 6);
    CHECK(data.label(i) == labels[i]);
    for (std::size_t p = 0; p < 6; ++p) CHECK(data.tokens(i)[p] == px[i * 6 + p]);
  }
  CHECK(data.tokens(2)[5] == 225);  // bytes >= 128 stay positive ids
}

TEST_CASE("malformed IDX files give errors naming the file and the problem", "[cpu][io][image]") {
  testing::TempDir dir;
  const auto px = small_pixels();
  const auto img = dir.file("img");
  const auto lab = dir.file("lab");
  testing::write_file(lab, idx(0x08, {3}, {4, 0, 9}));
  auto expect = [&](const std::string& image_bytes, const std::string& message) {
    testing::write_file(img, image_bytes);
    CHECK_THROWS_WITH(load_idx_classification(img, lab, 10, "t"),
                      Contains(img) && Contains(message));
  };
  const std::string good = idx(0x08, {3, 2, 3}, px);
  expect(good.substr(0, good.size() - 1),
         "truncated IDX file: header promises 18 data bytes, found 17");
  expect(good.substr(0, 9), "truncated IDX header");
  expect(good + "x", "1 unexpected bytes after the IDX data");
  expect("\x01\x02", "not an IDX file");
  expect(std::string("\x08\x03\x08\x03", 4) + good.substr(4),
         "not an IDX file: magic starts with 0x0803");
  expect(idx(0x0D, {3, 2, 3}, px), "type code 0x0d is not supported");
  expect(idx(0x08, {18}, px), "expected images of rank >= 2");
  expect(idx(0x08, {2, 3, 3}, px), "holds 3 labels but");
  testing::write_file(img, good);
  testing::write_file(lab, idx(0x08, {3}, {4, 10, 9}));
  CHECK_THROWS_WITH(load_idx_classification(img, lab, 10, "t"),
                    Contains("label 10 of item 1 outside [0, 10)"));
}

TEST_CASE("Fashion-MNIST directory layout: .gz preferred, plain accepted, split checked",
          "[cpu][io][image]") {
  testing::TempDir dir;
  const auto px = small_pixels();
  write_gzip(dir.file("t10k-images-idx3-ubyte.gz"), idx(0x08, {3, 2, 3}, px));
  testing::write_file(dir.file("t10k-labels-idx1-ubyte"), idx(0x08, {3}, {1, 2, 3}));
  const auto test = load_fashion_mnist("test", dir.path().string());
  CHECK(test.size() == 3);
  CHECK(test.class_names() == fashion_mnist_class_names());
  CHECK(test.class_names()[9] == "Ankle boot");
  CHECK_THROWS_WITH(load_fashion_mnist("train", dir.path().string()),
                    Contains("train-images-idx3-ubyte"));
  CHECK_THROWS_WITH(load_fashion_mnist("validation", dir.path().string()),
                    Contains("'train' or 'test'"));
}

TEST_CASE("Debian's Fashion-MNIST test split: 10000 images, 784 pixels, 1000 per class",
          "[cpu][io][image]") {
  if (!std::filesystem::exists(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz")) {
    WARN("SKIPPED: dataset-fashion-mnist is not installed");
    return;
  }
  const auto data = load_fashion_mnist("test");
  REQUIRE(data.size() == 10000);
  const auto stats = data.length_stats();
  CHECK(stats.min == 784);
  CHECK(stats.max == 784);
  for (const auto c : data.class_counts()) CHECK(c == 1000);
  CHECK(data.majority_rate() == Approx(0.1));
}

TEST_CASE("the grayscale formula is within half a level of the BT.601 luma for every colour",
          "[cpu][image]") {
  // Reference in double: Y = 0.2989 R + 0.5870 G + 0.1140 B; the integer formula must round it
  // (|gray - Y| <= 0.5, plus 1e-9 for the double's representation error).
  int worst_r = -1;
  double worst = 0;
  for (int r = 0; r < 256; ++r) {
    for (int g = 0; g < 256; ++g) {
      for (int b = 0; b < 256; ++b) {
        const double y = 0.2989 * r + 0.5870 * g + 0.1140 * b;
        const double err =
            std::abs(cifar10_gray(static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(g),
                                  static_cast<std::uint8_t>(b)) -
                     y);
        if (err > worst) {
          worst = err;
          worst_r = r;
        }
      }
    }
  }
  INFO("worst error " << worst << " at red " << worst_r);
  CHECK(worst <= 0.5 + 1e-9);
  CHECK(cifar10_gray(255, 255, 255) == 255);
  CHECK(cifar10_gray(0, 0, 0) == 0);
  CHECK(cifar10_gray(255, 0, 0) == 76);  // 76.2195
}

namespace {

// A CIFAR-10 record whose pixel p has R = p % 256, G = (3p) % 256, B = 255 - p % 256.
std::string cifar_record(std::uint8_t label) {
  std::string rec(1, static_cast<char>(label));
  for (int c = 0; c < 3; ++c) {
    for (int p = 0; p < 1024; ++p) {
      const int v = c == 0 ? p % 256 : c == 1 ? (3 * p) % 256 : 255 - p % 256;
      rec += static_cast<char>(v);
    }
  }
  return rec;
}

}  // namespace

TEST_CASE("CIFAR-10 binary records become 1024-token grayscale sequences", "[cpu][io][image]") {
  testing::TempDir dir;
  testing::write_file(dir.file("a.bin"), cifar_record(3) + cifar_record(7));
  testing::write_file(dir.file("b.bin"), cifar_record(0));
  const auto data = read_cifar10_binary({dir.file("a.bin"), dir.file("b.bin")}, "c");
  REQUIRE(data.size() == 3);
  CHECK(data.label(0) == 3);
  CHECK(data.label(1) == 7);
  CHECK(data.label(2) == 0);
  for (std::size_t i = 0; i < 3; ++i) {
    REQUIRE(data.length(i) == 1024);
    for (int p = 0; p < 1024; p += 37) {
      const double y = 0.2989 * (p % 256) + 0.5870 * ((3 * p) % 256) + 0.1140 * (255 - p % 256);
      CHECK(std::abs(data.tokens(i)[static_cast<std::size_t>(p)] - y) <= 0.5 + 1e-9);
    }
  }
}

TEST_CASE("CIFAR-10 directory layout, class names and malformed batches", "[cpu][io][image]") {
  testing::TempDir dir;
  for (int b = 1; b <= 5; ++b) {
    testing::write_file(dir.file("data_batch_" + std::to_string(b) + ".bin"),
                        cifar_record(static_cast<std::uint8_t>(b)));
  }
  testing::write_file(dir.file("test_batch.bin"), cifar_record(9) + cifar_record(8));
  const auto train = load_cifar10("train", dir.path().string());
  CHECK(train.size() == 5);
  CHECK(train.label(4) == 5);
  CHECK(train.class_names() == cifar10_class_names());
  testing::write_file(dir.file("batches.meta.txt"), "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n");
  const auto test = load_cifar10("test", dir.path().string());
  CHECK(test.size() == 2);
  CHECK(test.class_names()[9] == "j");

  testing::write_file(dir.file("batches.meta.txt"), "a\nb\n");
  CHECK_THROWS_WITH(load_cifar10("test", dir.path().string()), Contains("expected 10 class names"));
  const std::string rec = cifar_record(1);
  testing::write_file(dir.file("cut.bin"), rec + rec.substr(0, 1000));
  CHECK_THROWS_WITH(read_cifar10_binary({dir.file("cut.bin")}, "c"),
                    Contains("cut.bin") && Contains("4073 bytes is not a positive multiple"));
  testing::write_file(dir.file("empty.bin"), "");
  CHECK_THROWS_WITH(read_cifar10_binary({dir.file("empty.bin")}, "c"), Contains("empty.bin"));
  testing::write_file(dir.file("label.bin"), rec + cifar_record(10));
  CHECK_THROWS_WITH(read_cifar10_binary({dir.file("label.bin")}, "c"),
                    Contains("record 1 has label byte 10"));
  std::filesystem::remove(dir.file("data_batch_3.bin"));
  CHECK_THROWS_WITH(load_cifar10("train", dir.path().string()), Contains("data_batch_3.bin"));
}

TEST_CASE("pad_images: a background border, pixels in place, bad shapes named", "[cpu][image]") {
  SequenceDataset d("imgs", 256, 3, 0);
  d.set_class_names({"a", "b", "c"});
  const std::vector<std::int32_t> a{1, 2, 3, 4, 5, 6}, b{7, 8, 9, 10, 11, 12};
  d.add(a, 2);
  d.add(b, 0);
  const SequenceDataset p = pad_images(d, 2, 3, 1, 9);
  REQUIRE(p.size() == 2);
  CHECK(p.class_names() == d.class_names());
  CHECK(p.vocab_size() == 256);
  CHECK(p.label(0) == 2);
  CHECK(p.label(1) == 0);
  // 2x3 -> 4x5, row-major, background 9 around the image.
  const std::vector<std::int32_t> expect{9, 9, 9, 9, 9,  //
                                         9, 1, 2, 3, 9,  //
                                         9, 4, 5, 6, 9,  //
                                         9, 9, 9, 9, 9};
  const auto t = p.tokens(0);
  CHECK(std::vector<std::int32_t>(t.begin(), t.end()) == expect);
  const SequenceDataset unpadded = pad_images(d, 2, 3, 0);
  const auto t1 = unpadded.tokens(1);
  CHECK(std::vector<std::int32_t>(t1.begin(), t1.end()) == b);
  CHECK_THROWS_WITH(pad_images(d, 3, 3, 1), Contains("imgs: example 0 holds 6 pixels, not 3x3"));
  CHECK_THROWS_WITH(pad_images(d, 2, 3, 65), Contains("image padding 65 outside [0, 64]"));
  CHECK_THROWS_WITH(pad_images(d, 2, 3, 1, 256), Contains("background token 256 outside"));
  CHECK_THROWS_WITH(pad_images(d.with_cls(), 2, 3, 1), Contains("before adding a CLS token"));
}

TEST_CASE("task.image_pad: Fashion-MNIST at 32x32 = 1,024 tokens, crops refused",
          "[cpu][image][tasks]") {
  testing::TempDir dir;
  // Three 28x28 test images with a marker pixel at (0, 0) and (27, 27).
  std::vector<std::uint8_t> px(3 * 784, 0);
  for (int i = 0; i < 3; ++i) {
    px[static_cast<std::size_t>(i) * 784] = static_cast<std::uint8_t>(10 + i);
    px[static_cast<std::size_t>(i) * 784 + 783] = 200;
  }
  testing::write_file(dir.file("t10k-images-idx3-ubyte"), idx(0x08, {3, 28, 28}, px));
  testing::write_file(dir.file("t10k-labels-idx1-ubyte"), idx(0x08, {3}, {1, 2, 3}));
  auto config = [&](const std::vector<std::string>& extra) {
    Config c;
    for (const std::string& o :
         {std::string("task.name=fashion_mnist"), "task.data_dir=" + dir.path().string(),
          std::string("task.test_size=0"), std::string("model.pool=mean")}) {
      c.apply_override(o);
    }
    for (const std::string& o : extra) c.apply_override(o);
    return c;
  };
  auto task = make_task(config({"task.image_pad=2", "task.max_len=1024"}));
  task->load(dir.path().string(), {"test"});
  const SequenceDataset* t = task->sequences("test");
  REQUIRE(t != nullptr);
  REQUIRE(t->size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto s = t->tokens(i);
    REQUIRE(s.size() == 1024);
    CHECK(s[2 * 32 + 2] == static_cast<std::int32_t>(10 + i));  // (0, 0) moved to (2, 2)
    CHECK(s[29 * 32 + 29] == 200);                              // (27, 27) moved to (29, 29)
    CHECK(s[0] == 0);
    CHECK(s[1023] == 0);
  }
  CHECK_THROWS_WITH(make_task(config({"task.image_pad=2", "task.max_len=784"}))
                        ->load(dir.path().string(), {"test"}),
                    Contains("task.max_len = 784 would crop the 32x32 images (1024 pixels with "
                             "task.image_pad = 2)"));
  CHECK_THROWS_WITH(make_task(config({"task.max_len=700"}))->load(dir.path().string(), {"test"}),
                    Contains("task.max_len = 700 would crop the 28x28 images"));
  CHECK_THROWS_WITH(config({"task.image_pad=-1"}), Contains("task.image_pad"));
}
