// Why: byte-level text classification (LRA's IMDB task, and our offline fortunes task) reads
// labelled documents from simple `label<TAB>text` files. Labels are names (mapped to ids via a
// stored class list, so train/val/test agree); texts become byte sequences.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/data/SequenceDataset.hpp"

namespace diffuser::experiments {

/// One labelled document: label is an index into TextDataset::class_names.
struct TextExample {
  std::int32_t label = 0;
  std::string text;
};

/// Labelled documents with their class list (label id = position in class_names).
struct TextDataset {
  std::vector<std::string> class_names;
  std::vector<TextExample> examples;
};

/// Train/validation/test parts sharing one class list.
struct TextSplits {
  TextDataset train, val, test;
};

/// Escapes a text for one TSV field: backslash -> `\\`, newline -> `\n`, tab -> `\t`,
/// carriage return -> `\r`. Every other byte is kept.
std::string escape_text_field(std::string_view text);

/// Inverse of escape_text_field: `\\`, `\n`, `\t`, `\r` are decoded; a backslash before any
/// other character (or at the end) is kept literally, so hand-made files need no escaping.
std::string unescape_text_field(std::string_view field);

/// Reads a text classification file (plain or gzip-compressed): one `label<TAB>text` line per
/// document (text escaped as above; CRLF accepted; blank lines skipped). With `class_names`
/// empty the classes are the distinct labels of the file in byte order; otherwise every label
/// must be one of them. Throws diffuser::Error naming file and line for a line without a tab,
/// an empty label or text, or an unknown label.
TextDataset read_text_tsv(const std::string& path,
                          const std::vector<std::string>& class_names = {});

/// Writes `label<TAB>escaped text` lines atomically.
void write_text_tsv(const std::string& path, const TextDataset& data);

/// Reads a class list: one name per line (id = line number - 1); no empty or duplicate names.
std::vector<std::string> read_class_names(const std::string& path);

/// Writes a class list, one name per line, atomically.
void write_class_names(const std::string& path, const std::vector<std::string>& names);

/// Writes `train.tsv`, `val.tsv`, `test.tsv` and `classes.txt` into out_dir (created if
/// missing), each atomically.
void write_text_splits(const std::string& out_dir, const TextSplits& splits);

/// Byte-level tokens: byte b of a text is token b (vocab 256, pad 0; masking uses lengths).
/// With max_length > 0, documents keep only their first max_length bytes (as LRA truncates).
SequenceDataset to_byte_sequences(const TextDataset& data, const std::string& name,
                                  std::size_t max_length = 0);

/// read_text_tsv + to_byte_sequences, with class names attached.
SequenceDataset load_text_classification(const std::string& path,
                                         const std::vector<std::string>& class_names = {},
                                         std::size_t max_length = 0);

}  // namespace diffuser::experiments
