// Why: `diffuser spectral approx` measures how far sparse attention with diffusion is from full
// softmax attention on concrete Q, K, V — the empirical side of the spectral analysis. It needs
// both the attention module (Z on the pattern and Z of full attention) and pattern specs, and
// spectral/ must not include attention/ (DESIGN.md §2), so the study lives in the CLI, as a
// plain function that the CLI11 glue in SpectralCommand.cpp calls and the tests drive through
// the executable. Math and CSV columns: docs/cli.md ("diffuser spectral approx").
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "graph/CsrGraph.hpp"
#include "graph/PatternSpec.hpp"

namespace diffuser::cli {

/// Configuration of one approximation sweep: every (pattern, n, diffusion) combination gives a
/// CSV row with
///   z_rel_error = ||Z_pattern - Z_full||_F / ||Z_full||_F, where, per head h,
///     Z_pattern = sum_k theta_k A_h^k V_h (sparse_attention_forward on the pattern) and
///     Z_full = F_h V_h (dense_attention_forward, no pattern), F_h = row softmax of
///     Q_h K_h^T / sqrt(D) over all n keys;
///   op_l1_mean / op_l1_max = mean / max over heads and rows i of
///     d_i = sum_j |(sum_k theta_k A_h^k)_ij - (F_h)_ij| (in [0, 2]: both rows are stochastic).
/// Diffusions: hops K = 0 is plain attention theta = (0, 1); K >= 1 is truncated PPR(alpha, K)
/// for every alpha (attention::Diffusion::ppr). Everything is computed in float64.
struct SpectralApprox {
  /// Named patterns with their resolved specs (the name is what the CSV's `pattern` shows).
  std::vector<std::pair<std::string, graph::PatternSpec>> patterns;
  /// Sequence lengths n. With q/k/v files: empty (n is the files' n) or exactly that n.
  std::vector<graph::Index> lengths{1024};
  /// Diffusion hops K (0 = plain attention) and PPR teleport probabilities alpha in [0, 1].
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
  /// CSV output, rewritten atomically after every (pattern, n); empty: stdout at the end.
  std::string out;
};

/// A CSV field, quoted (RFC 4180: inner quotes doubled) when it holds a comma, quote or newline.
std::string csv_field(const std::string& s);

/// The CSV header written by run_spectral_approx (documented in docs/cli.md).
std::string spectral_approx_csv_header();

/// Validates the configuration (each bad option -> diffuser::Error naming it), then runs every
/// combination and writes the CSV. Progress lines go to stderr. Deterministic: the same
/// configuration gives the same numbers for any thread count.
void run_spectral_approx(const SpectralApprox& config);

}  // namespace diffuser::cli
