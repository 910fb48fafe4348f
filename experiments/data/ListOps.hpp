// Why: ListOps (Nangia and Bowman 2018, as used by the Long Range Arena, Tay et al. 2021) is the
// hierarchical-reasoning task of LRA. This header fixes its vocabulary and token ids, evaluates
// an expression to its label, and reads and writes LRA's TSV files, so data we generate and the
// official files go through the same code.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/data/SequenceDataset.hpp"

namespace diffuser::experiments {

/// ListOps token ids (vocabulary size kListOpsVocabSize = 16):
///   0 pad, 1 `[MIN`, 2 `[MAX`, 3 `[MED`, 4 `[SM`, 5 `]`, 6..15 the digits 0..9.
/// An expression in token form is prefix notation with explicit closers, e.g.
/// `[MAX 2 9 [MIN 4 7 ] 0 ]` (label 9). Parentheses of the LRA files are not tokens.
enum ListOpsToken : std::int32_t {
  kListOpsPad = 0,
  kListOpsMin = 1,
  kListOpsMax = 2,
  kListOpsMed = 3,
  kListOpsSum = 4,  ///< SM: sum modulo 10
  kListOpsClose = 5,
  kListOpsDigit0 = 6,  ///< digit d has id kListOpsDigit0 + d
};

inline constexpr std::int32_t kListOpsVocabSize = 16;
inline constexpr std::int32_t kListOpsNumClasses = 10;

/// The LRA spelling of a token id (`[MIN`, `]`, `7`, ...); "<pad>" for 0.
std::string_view listops_token_name(std::int32_t id);

/// Tokenises an LRA Source string: splits on whitespace, drops `(` and `)`, maps the rest to
/// ids. Throws diffuser::Error naming the unknown token and its 1-based column.
std::vector<std::int32_t> tokenize_listops(std::string_view source);

/// Evaluates a token-form expression to its label in 0..9 with the LRA semantics:
/// MIN, MAX; MED = median, the mean of the two middle values for an even count, truncated to
/// an integer; SM = sum mod 10. A lone digit evaluates to itself. Throws diffuser::Error if the
/// sequence is not exactly one well-formed expression (unclosed operator, stray `]`, operator
/// without arguments, trailing tokens, pad tokens). O(length) time plus a sort per MED.
std::int32_t evaluate_listops(std::span<const std::int32_t> tokens);

/// The LRA Source string of a token-form expression: every operator application is written as
/// left-nested pairs, e.g. `[MAX 2 9 [MIN 4 7 ] 0 ]` ->
/// `( ( ( ( ( [MAX 2 ) 9 ) ( ( ( [MIN 4 ) 7 ) ] ) ) 0 ) ] )`. Throws on malformed input.
std::string listops_source(std::span<const std::int32_t> tokens);

/// Writes a ListOps dataset as LRA TSV (atomically): header `Source\tTarget`, then one line per
/// example, `<listops_source>\t<label>`, LF line ends.
void write_listops_tsv(const std::string& path, const SequenceDataset& data);

/// Options for reading LRA ListOps TSV files.
struct ListOpsReadOptions {
  /// Check that every Target equals the evaluated Source (a mismatch is an error naming the line).
  bool verify_labels = true;
};

/// Reads an LRA ListOps TSV file (ours or the official `basic_{train,val,test}.tsv`; plain or
/// gzip-compressed): a header
/// line `Source\tTarget`, then `Source<TAB>Target` lines; CRLF line ends are accepted, as are
/// Sources with or without parentheses. Returns a dataset with vocab kListOpsVocabSize,
/// 10 classes, pad 0. Malformed lines throw diffuser::Error naming file and line.
SequenceDataset read_listops_tsv(const std::string& path, const ListOpsReadOptions& options = {});

/// Parses LRA ListOps TSV text held in memory (already decompressed), as read_listops_tsv does;
/// `name` is used in error messages and the dataset name.
SequenceDataset parse_listops_tsv(std::string_view text, const std::string& name,
                                  const ListOpsReadOptions& options = {});

}  // namespace diffuser::experiments
