// Why: how far sparse attention with diffusion is from full softmax attention on concrete Q, K,
// V — the empirical side of the spectral analysis (`diffuser spectral approx`). It needs both the
// attention module (Z on the pattern and Z of full attention) and pattern specs, and spectral/
// must not include attention/ (docs/design.md §2), so the study lives in analysis/, the one
// module that combines them. It computes rows; the CLI formats and writes them. Math and CSV
// columns: docs/cli.md ("diffuser spectral approx").
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/Diffusion.hpp"
#include "graph/CsrGraph.hpp"
#include "graph/PatternSpec.hpp"

namespace diffuser::analysis {

/// Configuration of one approximation sweep: every (pattern, n, diffusion) combination gives a
/// SpectralApproxRow with
///   z_rel_error = ||Z_pattern - Z_full||_F / ||Z_full||_F, where, per head h,
///     Z_pattern = sum_k theta_k A_h^k V_h (sparse_attention_forward on the pattern) and
///     Z_full = F_h V_h (dense_attention_forward, no pattern), F_h = row softmax of
///     Q_h K_h^T / sqrt(D) over all n keys;
///   op_l1_mean / op_l1_max = mean / max over heads and rows i of
///     d_i = sum_j |(sum_k theta_k A_h^k)_ij - (F_h)_ij| (in [0, 2]: both rows are stochastic).
/// Diffusions: hops K = 0 is plain attention theta = (0, 1); K >= 1 is truncated PPR(alpha, K)
/// for every alpha (Diffusion::ppr). Everything is computed in float64.
struct SpectralApprox {
  /// Named patterns with their resolved specs (the name is what the CSV's `pattern` shows).
  std::vector<std::pair<std::string, graph::PatternSpec>> patterns;
  /// Sequence lengths n. With q/k/v files: empty (n is the files' n) or exactly that n.
  std::vector<graph::Index> lengths{1024};
  /// Diffusion hops K (0 = plain attention) and PPR teleport probabilities alpha in [0, 1]
  /// (the limits of Diffusion; the error messages name them --hops and --alpha, as the CLI).
  std::vector<int> hops{0, 1, 2, 3, 5, 10};
  std::vector<double> alphas{0.1};
  /// Heads H; with random inputs also the head dimension D (width H·D).
  int heads = 1;
  int head_dim = 64;
  /// .npy files [n, H·D] for Q, K, V (all three or none). None: random inputs, i.i.d.
  /// Q, K ~ N(0, qk_std^2) and V ~ N(0, 1), drawn row-major from three xoshiro256** streams
  /// seeded by SplitMix64 from (input_seed, tensor) — the inputs at n are the first n rows of
  /// those at any larger n.
  std::string q_file, k_file, v_file;
  std::uint64_t input_seed = 0;
  double qk_std = 1.0;
  /// Rows of the operator distance: all n rows when operator_rows >= n, otherwise this many
  /// distinct rows drawn uniformly (seeded by input_seed and n; the same rows for every
  /// pattern); 0 skips the operator distance (its columns stay empty).
  graph::Index operator_rows = 1024;
};

/// One (pattern, n, diffusion) result.
struct SpectralApproxRow {
  std::string pattern;  ///< the name given in SpectralApprox::patterns
  graph::PatternSpec spec;
  graph::Index n = 0;
  std::int64_t nnz = 0;
  int heads = 0;
  int head_dim = 0;
  /// "normal(seed=S,qk_std=X)" or "files(q=...,k=...,v=...)".
  std::string inputs;
  Diffusion diffusion;
  double z_rel_error = 0.0;
  /// Operator rows requested (the sample size; 0 when operator_rows = 0).
  std::size_t op_rows = 0;
  /// Mean / max row-l1 distance over heads and sampled rows (empty when no row was measured).
  std::optional<double> op_l1_mean, op_l1_max;
  double full_seconds = 0.0;     ///< full attention at this n
  double pattern_seconds = 0.0;  ///< this pattern: build, every diffusion, operator distance
};

/// The rows of one (pattern, n), one per diffusion setting in settings order; `index` counts
/// the (pattern, n) pairs from 1 to `total`.
struct SpectralApproxBlock {
  std::size_t index = 0, total = 0;
  std::vector<SpectralApproxRow> rows;
};

/// The diffusion settings of a configuration, in row order: for every K in hops, K = 0 gives
/// plain attention once, K >= 1 gives Diffusion::ppr(alpha, K) for every alpha.
std::vector<Diffusion> spectral_approx_settings(const SpectralApprox& config);

/// Validates the configuration (each bad option -> diffuser::Error naming it), then runs every
/// combination, lengths outermost, and hands each finished (pattern, n) block to `sink` (which
/// may write it out, so an interrupted sweep keeps what it computed). Deterministic: the same
/// configuration gives the same numbers for any thread count.
void approximate_full_attention(const SpectralApprox& config,
                                const std::function<void(const SpectralApproxBlock&)>& sink);

}  // namespace diffuser::analysis
