// Why: the few row primitives every CPU attention kernel is built from (dot products, axpy,
// row max / sum, exp). They are written with GCC/Clang vector extensions (32-byte vectors:
// 8 floats or 4 doubles; the compiler maps them to AVX2 with -march=native, or to pairs of
// SSE registers without it) rather than relying on the auto-vectoriser, because reductions do
// not auto-vectorise without reassociation (-ffast-math), and fixed-lane arrays compiled to
// slow stack round trips. Every reduction has a fixed order written in the source, so results
// do not depend on alignment or thread count; they do differ from a sequential sum (the tests
// compare against the double-accumulating reference with written-down tolerances).
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace diffuser::attention::cpu {

/// 32-byte vector type for T (float or double) and its lane count.
template <typename T>
struct Simd;
template <>
struct Simd<float> {
  typedef float V __attribute__((vector_size(32)));
  typedef std::int32_t I __attribute__((vector_size(32)));
  static constexpr int kWidth = 8;
};
template <>
struct Simd<double> {
  typedef double V __attribute__((vector_size(32)));
  static constexpr int kWidth = 4;
};

template <typename T>
using Vec = typename Simd<T>::V;

template <typename T>
inline Vec<T> load(const T* p) {
  Vec<T> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename T>
inline void store(T* p, Vec<T> v) {
  std::memcpy(p, &v, sizeof v);
}
inline Vec<float> broadcast(float x) { return Vec<float>{x, x, x, x, x, x, x, x}; }
inline Vec<double> broadcast(double x) { return Vec<double>{x, x, x, x}; }

/// Sum of the lanes in a fixed pairwise order.
inline float hsum(Vec<float> v) {
  return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
}
inline double hsum(Vec<double> v) { return (v[0] + v[2]) + (v[1] + v[3]); }

/// <x, y> over n values: two vector accumulators (even / odd chunks), combined, lanes summed
/// pairwise, then the scalar tail in order.
template <typename T>
inline T dot(const T* __restrict x, const T* __restrict y, std::int64_t n) {
  constexpr int W = Simd<T>::kWidth;
  Vec<T> a{}, b{};
  std::int64_t d = 0;
  for (; d + 2 * W <= n; d += 2 * W) {
    a += load(x + d) * load(y + d);
    b += load(x + d + W) * load(y + d + W);
  }
  if (d + W <= n) {
    a += load(x + d) * load(y + d);
    d += W;
  }
  T r = hsum(a + b);
  for (; d < n; ++d) r += x[d] * y[d];
  return r;
}

/// out[e] = <q, k_e> for four rows k_0..k_3 sharing the loads of q (same order as dot()).
template <typename T>
inline void dot4(const T* __restrict q, const T* __restrict k0, const T* __restrict k1,
                 const T* __restrict k2, const T* __restrict k3, std::int64_t n, T* out) {
  constexpr int W = Simd<T>::kWidth;
  Vec<T> a0{}, a1{}, a2{}, a3{}, b0{}, b1{}, b2{}, b3{};
  std::int64_t d = 0;
  for (; d + 2 * W <= n; d += 2 * W) {
    const Vec<T> p = load(q + d), r = load(q + d + W);
    a0 += p * load(k0 + d);
    b0 += r * load(k0 + d + W);
    a1 += p * load(k1 + d);
    b1 += r * load(k1 + d + W);
    a2 += p * load(k2 + d);
    b2 += r * load(k2 + d + W);
    a3 += p * load(k3 + d);
    b3 += r * load(k3 + d + W);
  }
  if (d + W <= n) {
    const Vec<T> p = load(q + d);
    a0 += p * load(k0 + d);
    a1 += p * load(k1 + d);
    a2 += p * load(k2 + d);
    a3 += p * load(k3 + d);
    d += W;
  }
  T r0 = hsum(a0 + b0), r1 = hsum(a1 + b1), r2 = hsum(a2 + b2), r3 = hsum(a3 + b3);
  for (; d < n; ++d) {
    r0 += q[d] * k0[d];
    r1 += q[d] * k1[d];
    r2 += q[d] * k2[d];
    r3 += q[d] * k3[d];
  }
  out[0] = r0;
  out[1] = r1;
  out[2] = r2;
  out[3] = r3;
}

/// <x, y> accumulated in double (for the dtheta partial sums).
template <typename T>
inline double dot_double(const T* __restrict x, const T* __restrict y, std::int64_t n) {
  Vec<double> a{}, b{};
  std::int64_t d = 0;
  for (; d + 8 <= n; d += 8) {
    Vec<double> x0, x1, y0, y1;
    for (int l = 0; l < 4; ++l) {
      x0[l] = static_cast<double>(x[d + l]);
      x1[l] = static_cast<double>(x[d + 4 + l]);
      y0[l] = static_cast<double>(y[d + l]);
      y1[l] = static_cast<double>(y[d + 4 + l]);
    }
    a += x0 * y0;
    b += x1 * y1;
  }
  double r = hsum(a + b);
  for (; d < n; ++d) r += static_cast<double>(x[d]) * static_cast<double>(y[d]);
  return r;
}

/// Sum of n values (vector accumulator, pairwise lanes, scalar tail).
template <typename T>
inline T sum(const T* __restrict x, std::int64_t n) {
  constexpr int W = Simd<T>::kWidth;
  Vec<T> a{};
  std::int64_t d = 0;
  for (; d + W <= n; d += W) a += load(x + d);
  T r = hsum(a);
  for (; d < n; ++d) r += x[d];
  return r;
}

/// Maximum of n >= 1 values (exact in any order).
template <typename T>
inline T max(const T* __restrict x, std::int64_t n) {
  constexpr int W = Simd<T>::kWidth;
  T top = x[0];
  std::int64_t d = 0;
  if (n >= W) {
    Vec<T> m = load(x);
    for (d = W; d + W <= n; d += W) {
      const Vec<T> v = load(x + d);
      m = m > v ? m : v;
    }
    for (int l = 0; l < W; ++l) top = top > m[l] ? top : m[l];
  }
  for (; d < n; ++d) top = top > x[d] ? top : x[d];
  return top;
}

/// acc += w · x over n values.
template <typename T>
inline void axpy(T w, const T* __restrict x, T* __restrict acc, std::int64_t n) {
  constexpr int W = Simd<T>::kWidth;
  const Vec<T> wv = broadcast(w);
  std::int64_t d = 0;
  for (; d + W <= n; d += W) store(acc + d, load(acc + d) + wv * load(x + d));
  for (; d < n; ++d) acc[d] += w * x[d];
}

/// acc += w0 x0 + w1 x1 + w2 x2 + w3 x3, added in that order.
template <typename T>
inline void axpy4(T w0, const T* __restrict x0, T w1, const T* __restrict x1, T w2,
                  const T* __restrict x2, T w3, const T* __restrict x3, T* __restrict acc,
                  std::int64_t n) {
  constexpr int W = Simd<T>::kWidth;
  const Vec<T> v0 = broadcast(w0), v1 = broadcast(w1), v2 = broadcast(w2), v3 = broadcast(w3);
  std::int64_t d = 0;
  for (; d + W <= n; d += W) {
    Vec<T> t = load(acc + d);
    t += v0 * load(x0 + d);
    t += v1 * load(x1 + d);
    t += v2 * load(x2 + d);
    t += v3 * load(x3 + d);
    store(acc + d, t);
  }
  for (; d < n; ++d) {
    T t = acc[d];
    t += w0 * x0[d];
    t += w1 * x1[d];
    t += w2 * x2[d];
    t += w3 * x3[d];
    acc[d] = t;
  }
}

/// The fused step of the backward hop for four rows g_0..g_3 against one row y:
/// out[e] = <g_e, y> (same order as dot4) and acc += w0 g_0 + w1 g_1 + w2 g_2 + w3 g_3 (in
/// that order), reading each g_e once.
template <typename T>
inline void dot_axpy4(const T* __restrict y, const T* __restrict g0, const T* __restrict g1,
                      const T* __restrict g2, const T* __restrict g3, T w0, T w1, T w2, T w3,
                      T* __restrict acc, std::int64_t n, T* out) {
  constexpr int W = Simd<T>::kWidth;
  const Vec<T> v0 = broadcast(w0), v1 = broadcast(w1), v2 = broadcast(w2), v3 = broadcast(w3);
  Vec<T> a0{}, a1{}, a2{}, a3{}, b0{}, b1{}, b2{}, b3{};
  std::int64_t d = 0;
  auto step = [&](std::int64_t at, Vec<T>& s0, Vec<T>& s1, Vec<T>& s2, Vec<T>& s3) {
    const Vec<T> yy = load(y + at);
    const Vec<T> p0 = load(g0 + at), p1 = load(g1 + at), p2 = load(g2 + at), p3 = load(g3 + at);
    s0 += p0 * yy;
    s1 += p1 * yy;
    s2 += p2 * yy;
    s3 += p3 * yy;
    Vec<T> t = load(acc + at);
    t += v0 * p0;
    t += v1 * p1;
    t += v2 * p2;
    t += v3 * p3;
    store(acc + at, t);
  };
  for (; d + 2 * W <= n; d += 2 * W) {
    step(d, a0, a1, a2, a3);
    step(d + W, b0, b1, b2, b3);
  }
  if (d + W <= n) {
    step(d, a0, a1, a2, a3);
    d += W;
  }
  T r0 = hsum(a0 + b0), r1 = hsum(a1 + b1), r2 = hsum(a2 + b2), r3 = hsum(a3 + b3);
  for (; d < n; ++d) {
    r0 += g0[d] * y[d];
    r1 += g1[d] * y[d];
    r2 += g2[d] * y[d];
    r3 += g3[d] * y[d];
    T t = acc[d];
    t += w0 * g0[d];
    t += w1 * g1[d];
    t += w2 * g2[d];
    t += w3 * g3[d];
    acc[d] = t;
  }
  out[0] = r0;
  out[1] = r1;
  out[2] = r2;
  out[3] = r3;
}

/// Vectorised e^x for 8 floats. Cody-Waite range reduction x = m ln2 + r, |r| <= ln2 / 2, with
/// ln2 split into 0.693359375 (exact in 9 bits) plus -2.12194440e-4; e^r by its Taylor
/// polynomial of degree 6 (truncation error <= (ln2/2)^7 / 7! = 1.2e-7 relative, about one
/// float ulp); 2^m built in the exponent bits. Lanes below -87.33 (where e^x leaves the normal
/// float range) give 0; lanes above 88.72 saturate.
inline Vec<float> exp_float(Vec<float> x) {
  using I = Simd<float>::I;
  const Vec<float> lo = broadcast(-87.33f), hi = broadcast(88.72f);
  Vec<float> c = x < lo ? lo : x;
  c = c > hi ? hi : c;
  // Round to nearest integer by the 1.5 · 2^23 trick (exact for |t| < 2^22).
  const Vec<float> magic = broadcast(12582912.0f);
  const Vec<float> m = (c * 1.44269504088896341f + magic) - magic;
  const Vec<float> r = (c - m * 0.693359375f) - m * -2.12194440e-4f;
  Vec<float> p = broadcast(1.0f / 720.0f);
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const I bits = (__builtin_convertvector(m, I) + 127) << 23;
  Vec<float> two_m;
  std::memcpy(&two_m, &bits, sizeof two_m);
  const Vec<float> e = p * two_m;
  return x < lo ? Vec<float>{} : e;
}

/// x[d] = e^(x[d] - shift) for n values: the vectorised exp for float, std::exp for double.
template <typename T>
inline void exp_shifted(T* __restrict x, T shift, std::int64_t n) {
  if constexpr (sizeof(T) == sizeof(float)) {
    const Vec<float> s = broadcast(shift);
    std::int64_t d = 0;
    for (; d + 8 <= n; d += 8) store(x + d, exp_float(load(x + d) - s));
    if (d < n) {
      float tail[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (std::int64_t l = 0; d + l < n; ++l) tail[l] = x[d + l] - shift;
      const Vec<float> e = exp_float(load(tail));
      for (std::int64_t l = 0; d + l < n; ++l) x[d + l] = e[l];
    }
  } else {
    for (std::int64_t d = 0; d < n; ++d) x[d] = std::exp(x[d] - shift);
  }
}

}  // namespace diffuser::attention::cpu
