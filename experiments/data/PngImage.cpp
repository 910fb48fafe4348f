// Why: the PNG subset LRA's Pathfinder files need, written against the specification: chunks
// with CRC-32 (zlib's crc32), one zlib stream over all IDAT chunks, per-row filters undone in
// place, colour reduced to grey. Every malformation is an error naming the file.
#include "experiments/data/PngImage.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdlib>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "experiments/data/Cifar10.hpp"

namespace diffuser::experiments {

namespace {

constexpr std::array<std::uint8_t, 8> kSignature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

std::uint32_t read_be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

void append_be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

std::uint32_t chunk_crc(std::string_view type_and_data) {
  return static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(type_and_data.data()),
                                          static_cast<uInt>(type_and_data.size())));
}

void append_chunk(std::string& out, const char* type, std::string_view data) {
  append_be32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t start = out.size();
  out.append(type, 4);
  out.append(data);
  append_be32(out, chunk_crc(std::string_view(out).substr(start)));
}

// Bytes per pixel of an 8-bit image of the given colour type, 0 if unsupported.
int channels_of(int colour_type) {
  switch (colour_type) {
    case 0:
      return 1;
    case 2:
      return 3;
    case 3:
      return 1;
    case 4:
      return 2;
    case 6:
      return 4;
    default:
      return 0;
  }
}

std::uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return static_cast<std::uint8_t>(a);
  return static_cast<std::uint8_t>(pb <= pc ? b : c);
}

// Inflates `compressed` into exactly `expected` bytes.
std::string inflate_exact(const std::string& compressed, std::size_t expected,
                          const std::string& name) {
  std::string out(expected + 1, '\0');  // one spare byte detects over-long data
  z_stream zs{};
  DIFFUSER_CHECK(inflateInit(&zs) == Z_OK, "{}: cannot initialise zlib", name);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  const std::size_t produced = out.size() - zs.avail_out;
  inflateEnd(&zs);
  if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_MEM_ERROR) {
    fail("{}: corrupt PNG image data (zlib: {})", name, zs.msg ? zs.msg : "data error");
  }
  DIFFUSER_CHECK(produced <= expected,
                 "{}: PNG image data is longer than its IHDR size ({} bytes expected)", name,
                 expected);
  DIFFUSER_CHECK(rc == Z_STREAM_END && produced == expected,
                 "{}: PNG image data is truncated ({} of {} bytes)", name, produced, expected);
  out.resize(expected);
  return out;
}

}  // namespace

std::string encode_png(const PngImage& image) {
  DIFFUSER_CHECK(image.width >= 1 && image.height >= 1 && image.width <= kMaxPngSide &&
                     image.height <= kMaxPngSide,
                 "PNG: image size {}x{} outside 1..{}", image.width, image.height, kMaxPngSide);
  const auto w = static_cast<std::size_t>(image.width);
  const auto h = static_cast<std::size_t>(image.height);
  DIFFUSER_CHECK(image.pixels.size() == w * h, "PNG: {}x{} image holds {} pixels, expected {}",
                 image.width, image.height, image.pixels.size(), w * h);
  std::string raw;
  raw.reserve(h * (w + 1));
  for (std::size_t y = 0; y < h; ++y) {
    raw.push_back('\0');  // filter type None
    raw.append(reinterpret_cast<const char*>(image.pixels.data() + y * w), w);
  }
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string deflated(size, '\0');
  DIFFUSER_CHECK(compress2(reinterpret_cast<Bytef*>(deflated.data()), &size,
                           reinterpret_cast<const Bytef*>(raw.data()),
                           static_cast<uLong>(raw.size()), 9) == Z_OK,
                 "PNG: zlib compression failed");
  deflated.resize(size);

  std::string ihdr;
  append_be32(ihdr, static_cast<std::uint32_t>(image.width));
  append_be32(ihdr, static_cast<std::uint32_t>(image.height));
  ihdr += std::string{'\x08', '\0', '\0', '\0',
                      '\0'};  // depth 8, grey, deflate, filter 0, no interlace
  std::string out(kSignature.begin(), kSignature.end());
  append_chunk(out, "IHDR", ihdr);
  append_chunk(out, "IDAT", deflated);
  append_chunk(out, "IEND", {});
  return out;
}

PngImage decode_png(std::string_view bytes, const std::string& name) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  DIFFUSER_CHECK(bytes.size() >= 8 && std::equal(kSignature.begin(), kSignature.end(), p),
                 "{}: not a PNG file (bad signature)", name);
  std::size_t pos = 8;
  std::int32_t width = 0, height = 0;
  int colour_type = -1;
  std::vector<std::uint8_t> palette;  // RGB triples
  std::string idat;
  bool seen_ihdr = false, seen_iend = false;
  while (pos < bytes.size() && !seen_iend) {
    DIFFUSER_CHECK(bytes.size() - pos >= 12, "{}: truncated PNG chunk at byte {}", name, pos);
    const std::uint32_t length = read_be32(p + pos);
    const std::string type(bytes.substr(pos + 4, 4));
    DIFFUSER_CHECK(length <= bytes.size() - pos - 12,
                   "{}: PNG chunk '{}' at byte {} runs past the end of the file (truncated)", name,
                   type, pos);
    const std::string_view data = bytes.substr(pos + 8, length);
    DIFFUSER_CHECK(read_be32(p + pos + 8 + length) == chunk_crc(bytes.substr(pos + 4, length + 4)),
                   "{}: PNG chunk '{}' at byte {} has a bad CRC (corrupt file)", name, type, pos);
    pos += 12 + static_cast<std::size_t>(length);
    DIFFUSER_CHECK(seen_ihdr || type == "IHDR", "{}: first PNG chunk is '{}', expected IHDR", name,
                   type);
    const auto* d = reinterpret_cast<const unsigned char*>(data.data());
    if (type == "IHDR") {
      DIFFUSER_CHECK(!seen_ihdr && length == 13, "{}: invalid PNG IHDR chunk", name);
      seen_ihdr = true;
      const std::uint32_t w = read_be32(d), h = read_be32(d + 4);
      DIFFUSER_CHECK(w >= 1 && h >= 1 && w <= kMaxPngSide && h <= kMaxPngSide,
                     "{}: PNG size {}x{} outside 1..{}", name, w, h, kMaxPngSide);
      width = static_cast<std::int32_t>(w);
      height = static_cast<std::int32_t>(h);
      colour_type = d[9];
      DIFFUSER_CHECK(d[8] == 8, "{}: unsupported PNG bit depth {} (only 8 is read)", name, d[8]);
      DIFFUSER_CHECK(channels_of(colour_type) > 0, "{}: unsupported PNG colour type {}", name,
                     colour_type);
      DIFFUSER_CHECK(d[10] == 0 && d[11] == 0, "{}: unknown PNG compression or filter method",
                     name);
      DIFFUSER_CHECK(d[12] == 0, "{}: interlaced PNG is not supported", name);
    } else if (type == "PLTE") {
      DIFFUSER_CHECK(length % 3 == 0 && length >= 3 && length <= 768,
                     "{}: invalid PNG palette of {} bytes", name, length);
      palette.assign(d, d + length);
    } else if (type == "IDAT") {
      idat.append(data);
    } else if (type == "IEND") {
      seen_iend = true;
    } else {
      DIFFUSER_CHECK((type[0] & 0x20) != 0, "{}: unknown critical PNG chunk '{}'", name, type);
    }
  }
  DIFFUSER_CHECK(seen_iend, "{}: PNG file is truncated (no IEND chunk)", name);
  DIFFUSER_CHECK(colour_type != 3 || !palette.empty(), "{}: palette PNG without a PLTE chunk",
                 name);
  DIFFUSER_CHECK(!idat.empty(), "{}: PNG file has no image data (IDAT)", name);

  const int bpp = channels_of(colour_type);
  const auto w = static_cast<std::size_t>(width);
  const auto h = static_cast<std::size_t>(height);
  const std::size_t stride = w * static_cast<std::size_t>(bpp);
  std::string raw = inflate_exact(idat, h * (stride + 1), name);
  auto* rows = reinterpret_cast<std::uint8_t*>(raw.data());
  PngImage image;
  image.width = width;
  image.height = height;
  image.pixels.resize(w * h);
  for (std::size_t y = 0; y < h; ++y) {
    std::uint8_t* row = rows + y * (stride + 1) + 1;
    const std::uint8_t* up = y > 0 ? rows + (y - 1) * (stride + 1) + 1 : nullptr;
    const int filter = row[-1];
    for (std::size_t i = 0; i < stride; ++i) {
      const int a = i >= static_cast<std::size_t>(bpp) ? row[i - bpp] : 0;
      const int b = up ? up[i] : 0;
      const int c = (up && i >= static_cast<std::size_t>(bpp)) ? up[i - bpp] : 0;
      int predictor = 0;
      switch (filter) {
        case 0:
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) / 2;
          break;
        case 4:
          predictor = paeth(a, b, c);
          break;
        default:
          fail("{}: bad PNG filter type {} in row {}", name, filter, y);
      }
      row[i] = static_cast<std::uint8_t>(row[i] + predictor);
    }
    for (std::size_t x = 0; x < w; ++x) {
      const std::uint8_t* px = row + x * static_cast<std::size_t>(bpp);
      std::uint8_t grey = px[0];
      if (colour_type == 2 || colour_type == 6) {
        grey = cifar10_gray(px[0], px[1], px[2]);
      } else if (colour_type == 3) {
        DIFFUSER_CHECK(3u * px[0] + 2 < palette.size(),
                       "{}: palette index {} past the {}-entry palette", name, px[0],
                       palette.size() / 3);
        const std::uint8_t* rgb = palette.data() + 3u * px[0];
        grey = cifar10_gray(rgb[0], rgb[1], rgb[2]);
      }
      image.pixels[y * w + x] = grey;
    }
  }
  return image;
}

PngImage read_png(const std::string& path) { return decode_png(read_text_file(path), path); }

void write_png(const std::string& path, const PngImage& image) {
  write_text_atomic(path, encode_png(image));
}

}  // namespace diffuser::experiments
