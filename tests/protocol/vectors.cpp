#include "vectors.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string unhex(const std::string& hex) {
  std::string result;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    result += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return result;
}

const std::string root = ATHANOR_TEST_DATA "/vectors/";

} // namespace

vector_file load_vector(const std::string& path) {
  rapidjson::Document doc;
  auto text = read_file(root + path);
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.c_str());
  if (doc.HasParseError() || !doc.HasMember("frame"))
    throw std::runtime_error("bad vector file " + path);
  vector_file result;
  result.path = path;
  result.direction = doc["direction"].GetString();
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer{buffer};
  doc["frame"].Accept(writer);
  result.json.assign(buffer.GetString(), buffer.GetSize());
  if (doc.HasMember("msgpack_hex"))
    result.msgpack = unhex(doc["msgpack_hex"].GetString());
  return result;
}

std::vector<vector_file> load_vectors(const std::string& prefix) {
  rapidjson::Document index;
  auto text = read_file(root + "INDEX.json");
  index.Parse(text.c_str());
  std::vector<vector_file> result;
  for (auto& entry : index["files"].GetArray()) {
    std::string path = entry["file"].GetString();
    if (path.rfind(prefix, 0) == 0)
      result.push_back(load_vector(path));
  }
  return result;
}
