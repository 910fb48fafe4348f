// Why: the Pathfinder drawing, in integer fixed point (positions in 1/4096 pixel, directions
// from a table computed at compile time) so that a seed fixes every pixel on every machine.
// The label is correct by construction: consecutive dashes of one snake are at most 2 pixels
// apart (Chebyshev), pixels of different snakes at least 3, so linking ink pixels at distance
// <= 2 (PathfinderCheck.hpp) joins each snake and separates different ones.
#include "experiments/data/PathfinderGenerator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <ostream>
#include <utility>
#include <vector>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "experiments/data/PngImage.hpp"

namespace diffuser::experiments {

namespace {

constexpr int kFrac = 12;  // fixed point: 1 pixel = 4096 units
constexpr std::int32_t kOne = 1 << kFrac;
constexpr int kSeparation = 3;  // least Chebyshev distance between pixels of two snakes
constexpr int kSnakeAttempts = 40;
constexpr int kTurnTries = 6;
constexpr int kDashBudget = 20;

constexpr double taylor_sin(double x) {
  double term = x, sum = x;
  for (int k = 1; k < 16; ++k) {
    term *= -x * x / static_cast<double>((2 * k) * (2 * k + 1));
    sum += term;
  }
  return sum;
}

constexpr std::int32_t round_fixed(double v) {
  const double scaled = v * kOne;
  return scaled >= 0 ? static_cast<std::int32_t>(scaled + 0.5)
                     : -static_cast<std::int32_t>(-scaled + 0.5);
}

struct Directions {
  std::array<std::int32_t, kPathfinderAngles> dx{}, dy{};
};

// Unit vectors of angles a * 2 pi / 256 in fixed point: quarter turns are exact rotations,
// the angle within a quadrant (< pi / 2) goes through the Taylor series.
constexpr Directions make_directions() {
  constexpr double kPi = 3.14159265358979323846;
  constexpr int kQuarter = kPathfinderAngles / 4;
  Directions d;
  for (int a = 0; a < kPathfinderAngles; ++a) {
    const double x = (a % kQuarter) * (2 * kPi / kPathfinderAngles);
    double c = taylor_sin(kPi / 2 - x), s = taylor_sin(x);
    for (int q = 0; q < a / kQuarter; ++q) {
      const double t = c;
      c = -s;
      s = t;
    }
    d.dx[a] = round_fixed(c);
    d.dy[a] = round_fixed(s);
  }
  return d;
}

constexpr Directions kDirections = make_directions();

struct Pixel {
  std::int32_t x, y;
};

int chebyshev(Pixel a, Pixel b) { return std::max(std::abs(a.x - b.x), std::abs(a.y - b.y)); }

std::int32_t to_pixel(std::int32_t fixed) { return (fixed + kOne / 2) >> kFrac; }

std::int32_t uniform_int(Rng& rng, std::int32_t lo, std::int32_t hi) {  // [lo, hi]
  return lo + static_cast<std::int32_t>(rng.uniform_below(static_cast<std::uint64_t>(hi - lo + 1)));
}

struct Snake {
  std::vector<Pixel> pixels;
  Pixel first{}, last{};
};

// One image under construction: which pixels are reserved by snakes placed so far (within
// Chebyshev distance kSeparation - 1 of one of their pixels or reserved marker squares).
class Canvas {
 public:
  Canvas(const PathfinderOptions& o, Rng& rng)
      : o_(o), rng_(rng), claimed_(static_cast<std::size_t>(o.size * o.size), 0) {}

  bool is_free(Pixel p) const {
    return p.x >= 0 && p.y >= 0 && p.x < o_.size && p.y < o_.size &&
           claimed_[static_cast<std::size_t>(p.y * o_.size + p.x)] == 0;
  }

  bool square_free(Pixel c) const {
    const int h = o_.marker_side / 2;
    for (int dy = -h; dy <= h; ++dy) {
      for (int dx = -h; dx <= h; ++dx) {
        if (!is_free({c.x + dx, c.y + dy})) return false;
      }
    }
    return true;
  }

  // A snake of `segments` dashes on free pixels; with_markers also needs free marker squares
  // around both ends. Depth-first search over the turns (kTurnTries random turns per dash,
  // backtracking when a dash has no way on, at most kDashBudget dashes tried per start) so
  // that long snakes find room in small images. Nothing is reserved yet (see commit).
  std::optional<Snake> grow(std::int32_t segments, bool with_markers) {
    struct Frame {
      std::int32_t px, py, angle;  // start of the next dash, direction of the previous one
      int tries;
      std::size_t pixels;  // snake pixels before the next dash
    };
    const int margin = with_markers ? o_.marker_side / 2 : 0;
    Snake s;
    std::vector<Frame> stack;
    for (int attempt = 0; attempt < kSnakeAttempts; ++attempt) {
      s.pixels.clear();
      s.first = {uniform_int(rng_, margin, o_.size - 1 - margin),
                 uniform_int(rng_, margin, o_.size - 1 - margin)};
      stack.assign(1, Frame{s.first.x * kOne, s.first.y * kOne,
                            uniform_int(rng_, 0, kPathfinderAngles - 1), 1, 0});
      for (int budget = kDashBudget * segments; budget > 0 && !stack.empty();) {
        Frame& f = stack.back();
        if (f.tries == 0) {
          stack.pop_back();
          continue;
        }
        --f.tries;
        --budget;
        const std::int32_t a =
            stack.size() == 1
                ? f.angle
                : (f.angle + uniform_int(rng_, -o_.max_turn, o_.max_turn) + kPathfinderAngles) %
                      kPathfinderAngles;
        if (!dash_fits(f.px, f.py, a)) continue;
        s.pixels.resize(f.pixels);
        std::int32_t px = f.px, py = f.py;
        append_dash(s, px, py, a);
        if (static_cast<std::int32_t>(stack.size()) < segments) {
          stack.push_back(Frame{px, py, a, kTurnTries, s.pixels.size()});
          continue;
        }
        s.last = s.pixels.back();
        if (!with_markers ||
            (square_free(s.first) && square_free(s.last) && s.last.x >= margin &&
             s.last.y >= margin && s.last.x < o_.size - margin && s.last.y < o_.size - margin)) {
          return s;
        }
      }
    }
    return std::nullopt;
  }

  // Reserves the surroundings of a placed snake (and of marker squares at both its ends).
  void commit(const Snake& s, bool with_markers) {
    for (const Pixel p : s.pixels) reserve(p, kSeparation - 1);
    if (with_markers) {
      reserve(s.first, kSeparation - 1 + o_.marker_side / 2);
      reserve(s.last, kSeparation - 1 + o_.marker_side / 2);
    }
  }

 private:
  // Points of a dash from (px, py) in direction a, every half pixel (so consecutive points
  // round to 8-neighbouring pixels).
  template <typename F>
  void for_dash_points(std::int32_t px, std::int32_t py, std::int32_t a, F&& f) const {
    for (std::int32_t h = 0; h <= 2 * o_.dash_length; ++h) {
      f(Pixel{to_pixel(px + (kDirections.dx[a] * h >> 1)),
              to_pixel(py + (kDirections.dy[a] * h >> 1))});
    }
  }

  bool dash_fits(std::int32_t px, std::int32_t py, std::int32_t a) const {
    bool ok = true;
    for_dash_points(px, py, a, [&](Pixel p) { ok = ok && is_free(p); });
    return ok;
  }

  // Appends the dash's pixels and moves (px, py) to the start of the next dash.
  void append_dash(Snake& s, std::int32_t& px, std::int32_t& py, std::int32_t a) const {
    for_dash_points(px, py, a, [&](Pixel p) {
      if (s.pixels.empty() || s.pixels.back().x != p.x || s.pixels.back().y != p.y) {
        s.pixels.push_back(p);
      }
    });
    px += kDirections.dx[a] * (o_.dash_length + o_.gap_length);
    py += kDirections.dy[a] * (o_.dash_length + o_.gap_length);
  }

  void reserve(Pixel c, int radius) {
    for (int y = std::max(0, c.y - radius); y <= std::min(o_.size - 1, c.y + radius); ++y) {
      for (int x = std::max(0, c.x - radius); x <= std::min(o_.size - 1, c.x + radius); ++x) {
        claimed_[static_cast<std::size_t>(y * o_.size + x)] = 1;
      }
    }
  }

  const PathfinderOptions& o_;
  Rng& rng_;
  std::vector<std::uint8_t> claimed_;
};

std::uint64_t image_stream(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t state = seed;
  std::uint64_t mixed = splitmix64(state);
  state = mixed ^ (index * 0xD1B54A32D192ED03ULL);
  return splitmix64(state);
}

}  // namespace

PathfinderOptions pathfinder_options(std::int32_t size, std::uint64_t seed) {
  PathfinderOptions o;
  o.seed = seed;
  if (size == 32) return o;
  DIFFUSER_CHECK(size == 64, "Pathfinder: size must be 32 or 64 (got {})", size);
  o.size = 64;
  o.contour_segments = 16;
  o.distractor_segments = 5;
  o.distractors = 10;
  o.dash_length = 3;
  o.max_turn = 20;
  o.marker_side = 5;
  o.seed_distance = 12;
  return o;
}

PathfinderGenerator::PathfinderGenerator(const PathfinderOptions& options) : options_(options) {
  const PathfinderOptions& o = options;
  DIFFUSER_CHECK(o.size >= 8 && o.size <= 1024, "Pathfinder: size {} outside 8..1024", o.size);
  DIFFUSER_CHECK(o.contour_segments >= 1, "Pathfinder: contour_segments must be >= 1 (got {})",
                 o.contour_segments);
  DIFFUSER_CHECK(o.distractor_segments >= 1,
                 "Pathfinder: distractor_segments must be >= 1 (got {})", o.distractor_segments);
  DIFFUSER_CHECK(o.distractors >= 0, "Pathfinder: distractors must be >= 0 (got {})",
                 o.distractors);
  DIFFUSER_CHECK(o.dash_length >= 1 && o.dash_length <= o.size / 2,
                 "Pathfinder: dash_length {} outside 1..{}", o.dash_length, o.size / 2);
  DIFFUSER_CHECK(o.gap_length == 1 || o.gap_length == 2,
                 "Pathfinder: gap_length must be 1 or 2 (the checker bridges gaps of up to 2 "
                 "pixels; got {})",
                 o.gap_length);
  DIFFUSER_CHECK(o.max_turn >= 0 && o.max_turn <= kPathfinderAngles / 2,
                 "Pathfinder: max_turn {} outside 0..{}", o.max_turn, kPathfinderAngles / 2);
  DIFFUSER_CHECK(o.marker_side >= 1 && o.marker_side % 2 == 1 && o.marker_side <= o.size / 4,
                 "Pathfinder: marker_side must be odd in 1..{} (got {})", o.size / 4,
                 o.marker_side);
  DIFFUSER_CHECK(o.seed_distance >= o.marker_side + 1 && o.seed_distance < o.size,
                 "Pathfinder: seed_distance {} outside {}..{} (markers must not touch)",
                 o.seed_distance, o.marker_side + 1, o.size - 1);
  DIFFUSER_CHECK(o.ink_min >= 1 && o.ink_min <= o.ink_max && o.ink_max <= 254,
                 "Pathfinder: ink levels [{}, {}] must satisfy 1 <= ink_min <= ink_max <= 254",
                 o.ink_min, o.ink_max);
  DIFFUSER_CHECK(o.max_image_attempts >= 1, "Pathfinder: max_image_attempts must be >= 1");
}

std::vector<std::uint8_t> PathfinderGenerator::draw(std::int32_t label, std::uint64_t index) const {
  DIFFUSER_CHECK(label == 0 || label == 1, "Pathfinder: label must be 0 or 1 (got {})", label);
  const PathfinderOptions& o = options_;
  Rng rng(image_stream(o.seed, index));
  for (std::int32_t attempt = 0; attempt < o.max_image_attempts; ++attempt) {
    Canvas canvas(o, rng);
    std::vector<Snake> snakes;
    const auto one = canvas.grow(o.contour_segments, true);
    if (!one || (label == 1 && chebyshev(one->first, one->last) < o.seed_distance)) continue;
    canvas.commit(*one, true);
    const auto two = canvas.grow(o.contour_segments, true);
    if (!two) continue;
    canvas.commit(*two, true);
    std::array<Pixel, 2> markers = {one->first, one->last};
    if (label == 0) {
      markers = {rng.uniform_below(2) ? one->first : one->last,
                 rng.uniform_below(2) ? two->first : two->last};
      if (chebyshev(markers[0], markers[1]) < o.seed_distance) continue;
    }
    snakes = {*one, *two};
    bool placed = true;
    for (std::int32_t d = 0; d < o.distractors && placed; ++d) {
      const auto s = canvas.grow(o.distractor_segments, false);
      placed = s.has_value();
      if (placed) {
        canvas.commit(*s, false);
        snakes.push_back(*s);
      }
    }
    if (!placed) continue;

    std::vector<std::uint8_t> image(static_cast<std::size_t>(o.size * o.size), 0);
    for (const Snake& s : snakes) {
      for (const Pixel p : s.pixels) {
        image[static_cast<std::size_t>(p.y * o.size + p.x)] =
            static_cast<std::uint8_t>(uniform_int(rng, o.ink_min, o.ink_max));
      }
    }
    const int h = o.marker_side / 2;
    for (const Pixel m : markers) {
      for (int y = m.y - h; y <= m.y + h; ++y) {
        for (int x = m.x - h; x <= m.x + h; ++x)
          image[static_cast<std::size_t>(y * o.size + x)] = 255;
      }
    }
    return image;
  }
  fail(
      "Pathfinder: could not place two {}-dash contours and {} distractors in a {}x{} image "
      "after {} attempts (image {}); use fewer or shorter snakes",
      o.contour_segments, o.distractors, o.size, o.size, o.max_image_attempts, index);
}

SequenceDataset PathfinderGenerator::generate(std::size_t count) const {
  DIFFUSER_CHECK(count <= kMaxPathfinderExamples, "Pathfinder: count {} above the limit {}", count,
                 kMaxPathfinderExamples);
  std::vector<std::int32_t> labels(count, 0);
  std::fill(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(count / 2), 1);
  Rng order(image_stream(options_.seed, ~std::uint64_t{0}));
  for (std::size_t i = count; i > 1; --i) {
    std::swap(labels[i - 1], labels[order.uniform_below(i)]);
  }
  const auto pixels = static_cast<std::size_t>(options_.size * options_.size);
  SequenceDataset data(fmt::format("pathfinder{}", options_.size), 256, 2, 0);
  data.set_class_names({"disconnected", "connected"});
  data.reserve(count, count * pixels);
  std::vector<std::int32_t> tokens(pixels);
  for (std::size_t i = 0; i < count; ++i) {
    const auto image = draw(labels[i], i);
    std::copy(image.begin(), image.end(), tokens.begin());
    data.add(tokens, labels[i]);
  }
  return data;
}

void write_pathfinder_files(const std::string& out_dir, const SequenceDataset& data,
                            const PathfinderOptions& options, std::size_t batch_size) {
  DIFFUSER_CHECK(batch_size >= 1, "Pathfinder: batch_size must be >= 1");
  const std::int32_t side = options.size;
  const auto pixels = static_cast<std::size_t>(side) * static_cast<std::size_t>(side);
  DIFFUSER_CHECK(data.num_classes() == 2 && data.vocab_size() == 256 && data.cls_id() < 0,
                 "Pathfinder: dataset '{}' is not a Pathfinder set (needs 2 classes, vocab 256, no "
                 "CLS token)",
                 data.name());
  for (std::size_t i = 0; i < data.size(); ++i) {
    DIFFUSER_CHECK(data.length(i) == pixels, "Pathfinder: example {} of '{}' has {} pixels, not {}",
                   i, data.name(), data.length(i), pixels);
  }
  namespace fs = std::filesystem;
  const fs::path root(out_dir);
  fs::create_directories(root / "metadata");
  PngImage image;
  image.width = image.height = side;
  image.pixels.resize(pixels);
  for (std::size_t b = 0; b * batch_size < data.size(); ++b) {
    const std::string folder = fmt::format("imgs/{}", b);
    fs::create_directories(root / folder);
    std::string metadata;
    const std::size_t end = std::min(data.size(), (b + 1) * batch_size);
    for (std::size_t i = b * batch_size; i < end; ++i) {
      const std::size_t j = i - b * batch_size;
      const auto tokens = data.tokens(i);
      std::copy(tokens.begin(), tokens.end(), image.pixels.begin());
      const std::string file = fmt::format("sample_{}.png", j);
      write_png((root / folder / file).string(), image);
      metadata += fmt::format("{} {} {} {} {} {} {} {} 1 {} 1\n", folder, file, j, data.label(i),
                              options.max_turn, options.contour_segments,
                              options.distractor_segments, options.dash_length, options.gap_length);
    }
    write_text_atomic((root / "metadata" / fmt::format("{}.npy", b)).string(), metadata);
  }
  auto idx_header = [](std::ostream& out, char rank, std::initializer_list<std::size_t> dims) {
    out.write("\0\0\x08", 3);
    out.put(rank);
    for (const std::size_t d : dims) {
      for (int shift = 24; shift >= 0; shift -= 8) out.put(static_cast<char>((d >> shift) & 0xFF));
    }
  };
  write_atomic((root / "images-idx3-ubyte").string(), [&](std::ostream& out) {
    idx_header(out, 3,
               {data.size(), static_cast<std::size_t>(side), static_cast<std::size_t>(side)});
    std::vector<char> bytes(pixels);
    for (std::size_t i = 0; i < data.size(); ++i) {
      const auto tokens = data.tokens(i);
      std::copy(tokens.begin(), tokens.end(), bytes.begin());
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
  });
  write_atomic((root / "labels-idx1-ubyte").string(), [&](std::ostream& out) {
    idx_header(out, 1, {data.size()});
    for (const std::int32_t label : data.labels()) out.put(static_cast<char>(label));
  });
}

}  // namespace diffuser::experiments
