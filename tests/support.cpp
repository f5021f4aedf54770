#include "support.hpp"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>

namespace fwtest {

namespace fs = std::filesystem;

std::string source_dir() { return FWCERT_SOURCE_DIR; }

std::string corpus_dir() {
  if (const char* env = std::getenv("FWCERT_CORPUS"); env && *env) return fs::is_directory(env) ? env : "";
  std::error_code ec;
  if (fs::is_directory(FWCERT_CORPUS_DIR, ec)) return fs::canonical(FWCERT_CORPUS_DIR, ec).string();
  return {};
}

std::optional<std::string> corpus_file(const std::string& relative) {
  std::string dir = corpus_dir();
  if (dir.empty()) {
    WARN("corpus absent: skipped " << relative);
    return std::nullopt;
  }
  std::string p = dir + "/" + relative;
  if (!fs::exists(p)) {
    WARN("corpus file missing: skipped " << relative);
    return std::nullopt;
  }
  return p;
}

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

static void ensure(Bytes& b, size_t end) {
  if (b.size() < end) b.resize(end, 0);
}
void put_u16le(Bytes& b, size_t off, uint16_t v) {
  ensure(b, off + 2);
  for (int i = 0; i < 2; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_u16be(Bytes& b, size_t off, uint16_t v) {
  ensure(b, off + 2);
  for (int i = 0; i < 2; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * (1 - i)));
}
void put_u32le(Bytes& b, size_t off, uint32_t v) {
  ensure(b, off + 4);
  for (int i = 0; i < 4; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_u32be(Bytes& b, size_t off, uint32_t v) {
  ensure(b, off + 4);
  for (int i = 0; i < 4; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * (3 - i)));
}
void put_u64le(Bytes& b, size_t off, uint64_t v) {
  ensure(b, off + 8);
  for (int i = 0; i < 8; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_u64be(Bytes& b, size_t off, uint64_t v) {
  ensure(b, off + 8);
  for (int i = 0; i < 8; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * (7 - i)));
}
void append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }
void append(Bytes& b, const std::string& text) { b.insert(b.end(), text.begin(), text.end()); }

Bytes random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

static Bytes deflate_with(const Bytes& data, int window_bits) {
  z_stream zs{};
  if (deflateInit2(&zs, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
  Bytes out(deflateBound(&zs, data.size()) + 64);
  zs.next_in = const_cast<Bytes::value_type*>(data.data());
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}
Bytes gzip_compress(const Bytes& data) { return deflate_with(data, 15 + 16); }
Bytes zlib_compress(const Bytes& data) { return deflate_with(data, 15); }

const fwcert::Walker& walker() {
  static std::shared_ptr<const fwcert::Walker> w = [] {
    auto r = fwcert::make_default_walker(source_dir() + "/signatures");
    if (!r) throw std::runtime_error(r.error().message);
    return *r;
  }();
  return *w;
}

fwcert::WalkResult walk_all(const Bytes& data) {
  fwcert::WalkOptions o;
  o.min_confidence = fwcert::Confidence::Low;
  return walker().walk(fwcert::ByteView(data.data(), data.size()), o);
}

std::vector<fwcert::Hit> hits_of(const fwcert::WalkResult& r, const std::string& type) {
  std::vector<fwcert::Hit> out;
  for (const auto& h : r.hits)
    if (h.type == type) out.push_back(h);
  return out;
}

std::optional<fwcert::Hit> validate(const std::string& validator, const Bytes& data, uint64_t start) {
  static fwcert::ValidatorRegistry reg = [] {
    fwcert::ValidatorRegistry r;
    fwcert::register_builtin_validators(r);
    return r;
  }();
  const fwcert::Validator* v = reg.find(validator);
  if (!v) throw std::runtime_error("no validator " + validator);
  const fwcert::Signature* sig = nullptr;
  for (const auto& s : walker().matcher().signatures())
    if (s.validator == validator) {
      sig = &s;
      break;
    }
  if (!sig) throw std::runtime_error("no signature for " + validator);
  return v->fn(fwcert::ValidateInput{fwcert::ByteView(data.data(), data.size()), start, sig});
}

}  // namespace fwtest
