// Why: LRA's Pathfinder images ship as PNG files. Reading and writing them needs only zlib
// (already a dependency) plus the chunk, CRC and row-filter rules of the PNG specification
// (ISO/IEC 15948, W3C PNG 2nd ed.), so a small checked codec avoids a new image library and
// turns a malformed file into an error naming the file instead of garbage pixels.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace diffuser::experiments {

/// Largest width or height decode_png accepts (a guard against absurd headers).
inline constexpr std::int32_t kMaxPngSide = 16384;

/// An 8-bit grey image: pixels[y * width + x] in 0..255, row-major, width * height entries.
struct PngImage {
  std::int32_t width = 0;
  std::int32_t height = 0;
  std::vector<std::uint8_t> pixels;
};

/// PNG bytes of `image`: 8-bit greyscale (colour type 0), not interlaced, every row with
/// filter type 0 (None), one IDAT chunk deflated by zlib at level 9, CRC-32 per chunk.
/// Deterministic for a given zlib version. Throws diffuser::Error if a side is < 1 or above
/// kMaxPngSide or pixels.size() != width * height.
std::string encode_png(const PngImage& image);

/// Decodes PNG bytes into grey levels. Accepted: bit depth 8, colour types 0 (grey), 2 (RGB),
/// 3 (palette), 4 (grey + alpha), 6 (RGBA), no interlacing, all five row filters (None, Sub,
/// Up, Average, Paeth); colour becomes grey as round(0.2989 R + 0.5870 G + 0.1140 B) (the
/// luma of cifar10_gray), alpha is ignored. Throws diffuser::Error naming `name` on a bad
/// signature, a chunk running past the end, a CRC mismatch, a missing or invalid IHDR, an
/// unsupported bit depth / colour type / interlace method, a missing PLTE for colour type 3,
/// an unknown critical chunk, corrupt or short or over-long image data, a bad filter byte, a
/// palette index past the palette, or no IEND chunk.
PngImage decode_png(std::string_view bytes, const std::string& name);

/// Reads and decodes a PNG file; errors name the path.
PngImage read_png(const std::string& path);

/// Writes encode_png(image) to `path` atomically (core/AtomicFile.hpp).
void write_png(const std::string& path, const PngImage& image);

}  // namespace diffuser::experiments
