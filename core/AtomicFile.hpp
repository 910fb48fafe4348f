// Why: an interrupted run must never leave a half-written output or checkpoint. Every file
// diffuser writes goes to a temporary file in the same directory, is flushed to disk, and is
// renamed over the target (rename is atomic on POSIX file systems).
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace diffuser {

/// Writes `path` atomically: `writer` fills a binary stream on "<path>.tmp.<pid>", which is
/// fsync'ed and renamed to `path`. On any failure (writer throws, disk full, unwritable
/// directory) the temporary file is removed, `path` is untouched, and diffuser::Error names
/// the path and the reason. After a successful write, temporaries "<path>.tmp.<pid>" left by
/// writers that were killed (their process no longer exists) are removed.
void write_atomic(const std::string& path, const std::function<void(std::ostream&)>& writer);

/// Convenience: atomically writes a string as the whole file content.
void write_text_atomic(const std::string& path, const std::string& text);

/// Reads a whole file into a string; diffuser::Error names the path when it cannot be opened.
std::string read_text_file(const std::string& path);

}  // namespace diffuser
