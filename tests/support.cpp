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
Bytes raw_deflate(const Bytes& data) { return deflate_with(data, -15); }

static void put_u32(Bytes& b, size_t off, uint32_t v, bool be) { be ? put_u32be(b, off, v) : put_u32le(b, off, v); }

static void put_inode(Bytes& b, size_t off, uint32_t mode, uint32_t uid, uint32_t size, uint32_t gid, uint32_t namelen,
                      uint32_t offset, bool be) {
  if (!be) {
    put_u32le(b, off, (mode & 0xffff) | (uid << 16));
    put_u32le(b, off + 4, (size & 0xffffff) | (gid << 24));
    put_u32le(b, off + 8, (namelen & 0x3f) | (offset << 6));
  } else {
    put_u32be(b, off, (mode << 16) | (uid & 0xffff));
    put_u32be(b, off + 4, (size << 8) | (gid & 0xff));
    put_u32be(b, off + 8, (namelen << 26) | (offset & 0x3ffffff));
  }
}

Bytes make_cramfs(const std::vector<CramfsFile>& files, bool be) {
  Bytes img(76, 0);
  // Directory entries right after the superblock.
  size_t dir_start = img.size();
  std::vector<size_t> inode_pos;
  for (const auto& f : files) {
    inode_pos.push_back(img.size());
    size_t namelen = (f.name.size() + 3) / 4;
    img.resize(img.size() + 12 + namelen * 4, 0);
    std::copy(f.name.begin(), f.name.end(), img.begin() + static_cast<long>(inode_pos.back() + 12));
  }
  size_t dir_size = img.size() - dir_start;
  uint32_t blocks = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    size_t data_off = img.size();
    size_t nblocks = f.content.empty() ? 0 : (f.content.size() - 1) / 4096 + 1;
    blocks += static_cast<uint32_t>(nblocks);
    img.resize(img.size() + 4 * nblocks, 0);
    for (size_t k = 0; k < nblocks; ++k) {
      Bytes chunk(f.content.begin() + static_cast<long>(k * 4096),
                  f.content.begin() + static_cast<long>(std::min(f.content.size(), (k + 1) * 4096)));
      append(img, zlib_compress(chunk));
      put_u32(img, data_off + 4 * k, static_cast<uint32_t>(img.size()), be);
    }
    while (img.size() % 4) img.push_back(0);
    put_inode(img, inode_pos[i], f.mode, 0, static_cast<uint32_t>(f.content.size()), 0,
              static_cast<uint32_t>((f.name.size() + 3) / 4), nblocks ? static_cast<uint32_t>(data_off / 4) : 0, be);
  }
  img.resize((img.size() + 4095) / 4096 * 4096, 0);
  put_u32(img, 0, 0x28cd3d45, be);
  put_u32(img, 4, static_cast<uint32_t>(img.size()), be);
  put_u32(img, 8, 0x3, be);  // FSID_VERSION_2 | SORTED_DIRS
  const std::string sig = "Compressed ROMFS";
  std::copy(sig.begin(), sig.end(), img.begin() + 16);
  put_u32(img, 36, 0, be);
  put_u32(img, 40, blocks, be);
  put_u32(img, 44, static_cast<uint32_t>(files.size() + 1), be);
  const std::string name = "Compressed";
  std::copy(name.begin(), name.end(), img.begin() + 48);
  put_inode(img, 64, 040755, 0, static_cast<uint32_t>(dir_size), 0, 0, files.empty() ? 0 : 76 / 4, be);
  uint32_t crc = static_cast<uint32_t>(::crc32(0, img.data(), static_cast<uInt>(img.size())));
  put_u32(img, 32, crc, be);
  return img;
}

Bytes make_uimage(const Bytes& payload, uint8_t type, uint8_t comp, const std::string& name, uint32_t time) {
  Bytes img(64, 0);
  put_u32be(img, 0, 0x27051956);
  put_u32be(img, 8, time);
  put_u32be(img, 12, static_cast<uint32_t>(payload.size()));
  put_u32be(img, 16, 0x40008000);
  put_u32be(img, 20, 0x40008000);
  put_u32be(img, 24, static_cast<uint32_t>(::crc32(0, payload.data(), static_cast<uInt>(payload.size()))));
  img[28] = 5;  // Linux
  img[29] = 2;  // ARM
  img[30] = type;
  img[31] = comp;
  std::copy(name.begin(), name.begin() + static_cast<long>(std::min<size_t>(name.size(), 32)), img.begin() + 32);
  put_u32be(img, 4, static_cast<uint32_t>(::crc32(0, img.data(), 64)));
  append(img, payload);
  return img;
}

Bytes make_tar(const std::vector<TarMember>& members) {
  Bytes out;
  auto octal = [](Bytes& h, size_t off, size_t width, uint64_t v) {
    std::string s(width - 1, '0');
    for (size_t i = width - 1; i-- > 0; v >>= 3) s[i] = static_cast<char>('0' + (v & 7));
    std::copy(s.begin(), s.end(), h.begin() + static_cast<long>(off));
  };
  for (const auto& m : members) {
    Bytes h(512, 0);
    std::copy(m.name.begin(), m.name.begin() + static_cast<long>(std::min<size_t>(m.name.size(), 100)), h.begin());
    octal(h, 100, 8, m.typeflag == '5' ? 0755 : 0644);
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    octal(h, 124, 12, m.typeflag == '0' ? m.content.size() : 0);
    octal(h, 136, 12, 1594976572);
    h[156] = static_cast<uint8_t>(m.typeflag);
    std::copy(m.linkname.begin(), m.linkname.begin() + static_cast<long>(std::min<size_t>(m.linkname.size(), 100)),
              h.begin() + 157);
    const std::string magic("ustar\0" "00", 8);
    std::copy(magic.begin(), magic.end(), h.begin() + 257);
    std::fill(h.begin() + 148, h.begin() + 156, ' ');
    unsigned sum = 0;
    for (uint8_t c : h) sum += c;
    octal(h, 148, 7, sum);
    append(out, h);
    if (m.typeflag == '0') {
      append(out, m.content);
      out.resize((out.size() + 511) / 512 * 512, 0);
    }
  }
  out.resize(out.size() + 1024, 0);
  return out;
}

bool has_diag(const fwcert::Hit& h, const std::string& needle) {
  for (const auto& d : h.diagnostics)
    if (d.message.find(needle) != std::string::npos) return true;
  return false;
}

Bytes concat(const Bytes& a, const Bytes& b, const Bytes& c) {
  Bytes r = a;
  append(r, b);
  append(r, c);
  return r;
}

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
