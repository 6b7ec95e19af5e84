#pragma once

// Reads the protocol vectors in tests/data/vectors (copied from
// shared/design/vectors): each file holds one frame as JSON and, for most,
// the same frame as MessagePack hex.

#include <string>
#include <vector>

struct vector_file {
  std::string path;
  std::string direction;
  /// The frame as compact JSON text, as it travels on the wire.
  std::string json;
  /// The MessagePack bytes, empty if the file has none.
  std::string msgpack;
};

/// Returns every vector file listed in INDEX.json whose path starts with
/// `prefix` (e.g. "md-").
std::vector<vector_file> load_vectors(const std::string& prefix);

/// Returns one vector file by path relative to the vectors folder.
vector_file load_vector(const std::string& path);
