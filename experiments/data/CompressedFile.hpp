// Why: the data shipped by Debian comes gzip-compressed (Fashion-MNIST's IDX files) or
// dictzip'ed (dict-gcide's .dict.dz, a gzip-compatible format); users' own files are usually
// plain. One reader takes both, so loaders never care which they were given.
#pragma once

#include <string>

namespace diffuser::experiments {

/// Reads a whole file, decompressing it if it is gzip (or dictzip, or concatenated gzip
/// members); a file that is not gzip is returned as is. Throws diffuser::Error naming the path
/// if it cannot be opened or read, or if the compressed stream is corrupt or truncated.
std::string read_compressed_file(const std::string& path);

}  // namespace diffuser::experiments
