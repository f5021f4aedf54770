// Compressed streams: gzip, bzip2, xz, legacy .lzma ("alone") and zstd. Each is validated by really decoding it
// with the reference library (zlib, libbz2, liblzma, libzstd) into a fixed scratch buffer, so nothing is kept but
// byte counts; the hit size is the compressed stream length the decoder consumed up to the end of the stream.
// Output is capped so a bomb or a huge stream cannot stall the walk.
#include <bzlib.h>
#include <lzma.h>
#include <isa-l/igzip_lib.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fwcert/core/big_block.hpp"
#include "fwcert/core/bytes.hpp"
#include "fwcert/core/checksum.hpp"
#include "fwcert/scan/validator.hpp"

namespace fwcert {
namespace {

constexpr uint64_t kOutputCap = 256ull << 20;     // stop decoding after this much output (size then unknown)
constexpr uint64_t kGoodOutput = 64ull << 10;     // a truncated stream that decoded this much is Medium
constexpr uint64_t kEarlyOutput = 4ull << 10;     // an error before this much output (and input) rejects
constexpr uint64_t kEarlyInput = 1024;
constexpr size_t kScratchSize = 64 << 10;
constexpr uint64_t kChunk = 1ull << 30;           // zlib/bzip2 count input in 32-bit fields: feed at most this

// One reusable output buffer per thread: decoders write here and we only count (and CRC) the bytes.
uint8_t* scratch() {
  thread_local std::vector<uint8_t> buf(kScratchSize);
  return buf.data();
}

enum class Status { End, Truncated, Error, Capped };

struct Outcome {
  Status status = Status::Error;
  uint64_t consumed = 0;  // input bytes used (meaningful for End)
  uint64_t produced = 0;  // output bytes
  std::string error;      // decoder message for Error
};

// Shared policy for turning a decode outcome into a confidence. Returns false to reject.
// data_start: index in the image where the compressed data begins; start: where the structure begins.
bool apply_outcome(Hit& hit, const Outcome& o, const ValidateInput& in, uint64_t data_start, const char* what) {
  const uint64_t abs = in.image.base() + data_start;
  switch (o.status) {
    case Status::End:
      hit.confidence = Confidence::High;
      hit.size = data_start - in.start + o.consumed;
      return true;
    case Status::Capped:
      hit.confidence = Confidence::Medium;
      hit.size = 0;
      hit.diag(abs, Severity::Warning,
               std::string(what) + ": stopped decoding after " + std::to_string(o.produced) +
                   " bytes of output (cap); compressed size unknown");
      return true;
    case Status::Truncated:
      hit.confidence = o.produced >= kGoodOutput ? Confidence::Medium : Confidence::Low;
      hit.size = in.image.size() - in.start;  // every remaining byte was consumed
      hit.open_ended = true;                   // ... but they need not all belong to the stream
      hit.diag(abs, Severity::Warning,
               std::string(what) + " stream truncated: input ended after " + std::to_string(o.produced) +
                   " bytes of output without an end of stream");
      return true;
    case Status::Error:
      if (o.produced < kEarlyOutput && o.consumed < kEarlyInput) return false;
      hit.confidence = Confidence::Low;
      hit.size = 0;
      hit.diag(abs + o.consumed, Severity::Error,
               std::string(what) + " data corrupt after " + std::to_string(o.produced) + " bytes of output: " + o.error);
      return true;
  }
  return false;
}

// ---------------------------------------------------------------- gzip (RFC 1952) ---------------------------------

// Where inflated bytes go: a scratch ring that is only counted, or (when the walk keeps decoded output) a BigBlock
// that grows by doubling up to the output cap.
class InflateOutput {
 public:
  explicit InflateOutput(bool keep) : keep_(keep), kept_(uint64_t{256} << 10, kOutputCap) {}
  // Room for the next chunk of output.
  std::pair<uint8_t*, uint32_t> room() {
    if (keep_) {
      auto [dst, n] = kept_.room(kScratchSize);
      if (dst) return {dst, static_cast<uint32_t>(std::min<uint64_t>(n, UINT32_MAX))};
      keep_ = false;  // at the cap or no memory for a copy: count only, the extractor decodes again
      kept_.release();
    }
    return {scratch(), static_cast<uint32_t>(kScratchSize)};
  }
  void produced(uint32_t n) {
    if (keep_) kept_.produced(n);
  }
  // Hands the output to the hit (only for a stream decoded to its end).
  void give_to(Hit& hit) {
    if (!keep_) return;
    const uint64_t n = kept_.size();
    auto block = kept_.release();
    if (!block) return;
    hit.decoded = block->data();
    hit.decoded_size = n;
    hit.decoded_owner = std::move(block);
  }

 private:
  bool keep_;
  GrowingBlock kept_;
};

// Inflates raw deflate data from view, counting output and its CRC-32. ISA-L's igzip inflater is used instead of
// zlib's: it decodes the same streams two to three times faster, and a firmware walk inflates every kernel it meets.
Outcome inflate_raw(ByteView data, uint32_t& crc_out, InflateOutput& output) {
  thread_local std::unique_ptr<inflate_state> state = std::make_unique<inflate_state>();
  inflate_state* st = state.get();
  isal_inflate_init(st);
  st->crc_flag = ISAL_GZIP_NO_HDR;  // raw deflate, with the gzip CRC-32 of the output kept in st->crc
  Outcome o;
  uint64_t fed = 0;
  st->avail_in = 0;
  for (;;) {
    if (st->avail_in == 0 && fed < data.size()) {
      uint64_t n = std::min<uint64_t>(data.size() - fed, kChunk);
      st->next_in = const_cast<uint8_t*>(data.data() + fed);
      st->avail_in = static_cast<uint32_t>(n);
      fed += n;
    }
    auto [out, room] = output.room();
    st->next_out = out;
    st->avail_out = room;
    const int rc = isal_inflate(st);
    const uint32_t got = room - st->avail_out;
    output.produced(got);
    o.produced += got;
    // Bytes read ahead into the bit buffer are not consumed yet.
    const uint64_t buffered = st->read_in_length > 0 ? static_cast<uint64_t>(st->read_in_length) / 8 : 0;
    o.consumed = fed - st->avail_in - std::min<uint64_t>(buffered, fed - st->avail_in);
    if (rc < 0) {
      o.status = Status::Error;
      o.error = rc == ISAL_INVALID_BLOCK      ? "invalid deflate block"
                : rc == ISAL_INVALID_SYMBOL   ? "invalid deflate symbol"
                : rc == ISAL_INVALID_LOOKBACK ? "invalid lookback distance"
                                              : "inflate error " + std::to_string(rc);
      break;
    }
    if (st->block_state == ISAL_BLOCK_FINISH) {
      o.status = Status::End;
      break;
    }
    if (got == 0 && st->avail_in == 0 && fed >= data.size()) {  // no progress and no more input
      o.status = Status::Truncated;
      break;
    }
    if (o.produced >= kOutputCap) {
      o.status = Status::Capped;
      break;
    }
  }
  crc_out = st->crc;
  return o;
}

const char* gzip_os(uint8_t os) {
  static const char* const names[] = {"FAT filesystem (MS-DOS, OS/2, NT/Win32)", "Amiga", "VMS", "Unix", "VM/CMS",
                                      "Atari TOS", "HPFS filesystem (OS/2, NT)", "Macintosh", "Z-System", "CP/M",
                                      "TOPS-20", "NTFS filesystem (NT)", "QDOS", "Acorn RISCOS"};
  if (os < sizeof names / sizeof names[0]) return names[os];
  return "unknown";
}

std::optional<Hit> validate_gzip(const ValidateInput& in) {
  ByteView v = in.image.tail(in.start);
  // ID1 ID2 CM: 1f 8b 08 (deflate is the only defined method).
  if (!v.matches(0, "\x1f\x8b\x08")) return std::nullopt;
  auto flg = v.u8(3);
  auto mtime = v.u32le(4);
  auto xfl = v.u8(8);
  auto os = v.u8(9);
  if (!flg || !mtime || !xfl || !os) return std::nullopt;
  if (*flg & 0xE0) return std::nullopt;                 // reserved flag bits must be zero
  if (*os > 13 && *os != 255) return std::nullopt;      // OS values 14..254 are not defined
  if (*xfl != 0 && *xfl != 2 && *xfl != 4) return std::nullopt;  // XFL: 2 = max compression, 4 = fastest

  Hit hit;
  hit.offset = in.image.base() + in.start;
  hit.type = "gzip";
  hit.nesting = Nesting::Opaque;
  uint64_t pos = 10;
  std::string name, comment;
  if (*flg & 0x04) {  // FEXTRA: XLEN then XLEN bytes
    auto xlen = v.u16le(pos);
    if (!xlen || !v.contains(pos + 2, *xlen)) return std::nullopt;
    pos += 2 + *xlen;
  }
  auto read_zstring = [&](std::string& outs) -> bool {  // FNAME / FCOMMENT: NUL-terminated, ISO 8859-1
    ByteView rest = v.clamp(pos, 4096);
    const void* nul = std::memchr(rest.data(), 0, rest.size());
    if (!nul) return false;
    size_t n = static_cast<size_t>(static_cast<const uint8_t*>(nul) - rest.data());
    outs.assign(reinterpret_cast<const char*>(rest.data()), n);
    pos += n + 1;
    return true;
  };
  if ((*flg & 0x08) && !read_zstring(name)) return std::nullopt;
  if ((*flg & 0x10) && !read_zstring(comment)) return std::nullopt;
  // A name with control bytes is still a gzip header (gzip -dc reads it; RFC 1952 only asks for ISO 8859-1 by
  // convention): what decides is the deflate data and the trailer below. The name is shown through printable().
  bool header_crc_bad = false;
  if (*flg & 0x02) {  // FHCRC: low 16 bits of the CRC-32 of the header bytes before it
    auto stored = v.u16le(pos);
    if (!stored) return std::nullopt;
    uint16_t computed = static_cast<uint16_t>(crc32(v.clamp(0, pos)) & 0xFFFF);
    header_crc_bad = *stored != computed;
    if (header_crc_bad)
      hit.diag(hit.offset + pos, Severity::Warning,
               "header CRC16 mismatch: stored " + hex(*stored) + ", computed " + hex(computed));
    pos += 2;
  }
  if (!v.contains(pos, 1)) return std::nullopt;

  uint32_t crc = 0;
  InflateOutput output(in.keep_decoded);
  Outcome o = inflate_raw(v.tail(pos), crc, output);
  uint64_t isize_computed = o.produced;
  if (!apply_outcome(hit, o, in, in.start + pos, "deflate")) return std::nullopt;
  if (o.status == Status::End) {
    // Trailer: CRC32 and ISIZE (uncompressed size mod 2^32), both little-endian.
    uint64_t t = pos + o.consumed;
    auto stored_crc = v.u32le(t);
    auto stored_isize = v.u32le(t + 4);
    if (!stored_crc || !stored_isize) {
      hit.confidence = Confidence::Medium;
      hit.size = v.size();
      hit.diag(hit.offset + t, Severity::Warning, "gzip trailer (CRC32, ISIZE) truncated");
    } else {
      hit.size = t + 8;
      if (*stored_crc != crc) {
        hit.confidence = Confidence::Medium;
        hit.diag(hit.offset + t, Severity::Warning,
                 "gzip CRC32 mismatch: stored " + hex(*stored_crc) + ", computed " + hex(crc));
      }
      if (*stored_isize != static_cast<uint32_t>(isize_computed)) {
        hit.confidence = Confidence::Medium;
        hit.diag(hit.offset + t + 4, Severity::Warning,
                 "gzip ISIZE mismatch: stored " + std::to_string(*stored_isize) + ", decompressed " +
                     std::to_string(isize_computed));
      }
    }
  }
  if (header_crc_bad && hit.confidence == Confidence::High)
    hit.confidence = Confidence::Medium;  // a bad header CRC lowers an otherwise verified stream
  // Only a stream verified end to end (trailer CRC and size) is handed on; anything else is decoded again by the
  // extractor, which reports its problems its own way.
  if (hit.confidence == Confidence::High) output.give_to(hit);

  std::string d = "gzip compressed data";
  if (*xfl == 2) d += ", maximum compression";
  if (*xfl == 4) d += ", fastest compression";
  if (*flg & 0x01) d += ", ASCII";
  if (*flg & 0x02) d += ", has header CRC";
  if (*flg & 0x04) d += ", has extra field";
  if (*flg & 0x08) d += ", has original file name: \"" + printable(name, 128) + "\"";
  if (*flg & 0x10) d += ", has comment: \"" + printable(comment, 64) + "\"";
  d += std::string(", from ") + gzip_os(*os);
  d += ", last modified: " + (*mtime ? utc_time(*mtime) : std::string("null date"));
  if (o.status == Status::End) d += ", uncompressed size: " + std::to_string(o.produced);
  hit.description = std::move(d);
  return hit;
}

// ---------------------------------------------------------------- bzip2 -------------------------------------------

Outcome decode_bzip2(ByteView data) {
  Outcome o;
  bz_stream bs{};
  if (BZ2_bzDecompressInit(&bs, 0, 0) != BZ_OK) {
    o.error = "libbz2 init failed";
    return o;
  }
  uint8_t* out = scratch();
  uint64_t fed = 0;
  for (;;) {
    if (bs.avail_in == 0 && fed < data.size()) {
      uint64_t n = std::min<uint64_t>(data.size() - fed, kChunk);
      bs.next_in = const_cast<char*>(reinterpret_cast<const char*>(data.data() + fed));
      bs.avail_in = static_cast<unsigned>(n);
      fed += n;
    }
    bs.next_out = reinterpret_cast<char*>(out);
    bs.avail_out = kScratchSize;
    const unsigned in_before = bs.avail_in;
    int rc = BZ2_bzDecompress(&bs);
    const unsigned got = kScratchSize - bs.avail_out;
    o.produced += got;
    o.consumed = fed - bs.avail_in;
    if (rc == BZ_STREAM_END) {
      o.status = Status::End;
      break;
    }
    if (rc != BZ_OK) {
      o.status = Status::Error;
      o.error = rc == BZ_DATA_ERROR_MAGIC ? "bad stream magic" : "data error (block CRC or Huffman data) " +
                                                                     std::to_string(rc);
      break;
    }
    if (got == 0 && bs.avail_in == 0 && in_before == 0 && fed >= data.size()) {
      o.status = Status::Truncated;
      break;
    }
    if (o.produced >= kOutputCap) {
      o.status = Status::Capped;
      break;
    }
  }
  BZ2_bzDecompressEnd(&bs);
  return o;
}

std::optional<Hit> validate_bzip2(const ValidateInput& in) {
  ByteView v = in.image.tail(in.start);
  // "BZh" + block size '1'..'9' (x 100k), then the first block magic (pi) or the end-of-stream magic (sqrt(pi)).
  if (!v.matches(0, "BZh")) return std::nullopt;
  auto level = v.u8(3);
  if (!level || *level < '1' || *level > '9') return std::nullopt;
  const bool empty = v.matches(4, "\x17\x72\x45\x38\x50\x90");
  if (!empty && !v.matches(4, "\x31\x41\x59\x26\x53\x59")) return std::nullopt;

  Hit hit;
  hit.offset = in.image.base() + in.start;
  hit.type = "bzip2";
  hit.nesting = Nesting::Opaque;
  Outcome o = decode_bzip2(v);
  if (o.status == Status::Error && o.produced == 0) return std::nullopt;  // first block does not decode
  if (!apply_outcome(hit, o, in, in.start, "bzip2")) return std::nullopt;
  hit.description = "bzip2 compressed data, block size = " + std::string(1, static_cast<char>(*level)) + "00k";
  if (empty) hit.description += ", empty stream";
  if (o.status == Status::End) hit.description += ", uncompressed size: " + std::to_string(o.produced);
  return hit;
}

// ---------------------------------------------------------------- xz and lzma (liblzma) ---------------------------

Outcome run_lzma(lzma_stream& s, ByteView data, uint64_t cap) {
  Outcome o;
  uint8_t* out = scratch();
  s.next_in = data.data();
  s.avail_in = data.size();
  for (;;) {
    s.next_out = out;
    s.avail_out = kScratchSize;
    const size_t in_before = s.avail_in;
    lzma_ret rc = lzma_code(&s, LZMA_FINISH);  // all input is present: FINISH makes truncation an error we see
    const size_t got = kScratchSize - s.avail_out;
    o.produced += got;
    o.consumed = data.size() - s.avail_in;
    if (rc == LZMA_STREAM_END) {
      o.status = Status::End;
      break;
    }
    if (rc == LZMA_BUF_ERROR || (rc == LZMA_OK && got == 0 && s.avail_in == 0 && in_before == 0)) {
      o.status = Status::Truncated;
      break;
    }
    if (rc != LZMA_OK) {
      o.status = Status::Error;
      switch (rc) {
        case LZMA_DATA_ERROR: o.error = "data error"; break;
        case LZMA_FORMAT_ERROR: o.error = "format error"; break;
        case LZMA_OPTIONS_ERROR: o.error = "unsupported options"; break;
        case LZMA_MEMLIMIT_ERROR: o.error = "memory limit exceeded"; break;
        case LZMA_MEM_ERROR: o.error = "out of memory"; break;
        default: o.error = "liblzma error " + std::to_string(static_cast<int>(rc)); break;
      }
      break;
    }
    if (o.produced >= cap) {
      o.status = Status::Capped;
      break;
    }
  }
  lzma_end(&s);
  return o;
}

constexpr uint64_t kLzmaMemLimit = 1ull << 30;

std::optional<Hit> validate_xz(const ValidateInput& in) {
  ByteView v = in.image.tail(in.start);
  // Stream header (xz-file-format 2.1.1): magic fd '7zXZ' 00, 2 bytes stream flags, CRC32 of the flags.
  if (!v.matches(0, "\xfd" "7zXZ\x00")) return std::nullopt;
  auto f0 = v.u8(6);
  auto f1 = v.u8(7);
  auto stored = v.u32le(8);
  if (!f0 || !f1 || !stored) return std::nullopt;
  if (*f0 != 0 || (*f1 & 0xF0)) return std::nullopt;  // reserved bits of the stream flags must be zero
  Hit hit;
  hit.offset = in.image.base() + in.start;
  hit.type = "xz";
  hit.nesting = Nesting::Opaque;
  static const char* const checks[16] = {"none",     "CRC32",    "check 2",  "check 3",  "CRC64",    "check 5",
                                         "check 6",  "check 7",  "check 8",  "check 9",  "SHA-256",  "check 11",
                                         "check 12", "check 13", "check 14", "check 15"};
  hit.description = std::string("xz compressed data, check: ") + checks[*f1 & 0x0F];
  uint32_t computed = crc32(*v.sub(6, 2));
  if (computed != *stored) {
    hit.confidence = Confidence::Low;
    hit.diag(hit.offset + 8, Severity::Warning,
             "xz stream header CRC32 mismatch: stored " + hex(*stored) + ", computed " + hex(computed));
    return hit;
  }
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&s, kLzmaMemLimit, 0) != LZMA_OK) return std::nullopt;
  Outcome o = run_lzma(s, v, kOutputCap);
  if (!apply_outcome(hit, o, in, in.start, "xz")) return std::nullopt;
  if (o.status == Status::End) hit.description += ", uncompressed size: " + std::to_string(o.produced);
  return hit;
}

// Legacy LZMA_Alone (.lzma) header: properties byte (lc + lp*9 + pb*45), u32 dictionary size, u64 uncompressed size
// (all ones = unknown, then an end marker terminates the stream). The magic is weak, so every field is checked the
// way liblzma's "picky" mode does, plus the range coder's first byte, which an LZMA encoder always writes as 0.
std::optional<Hit> validate_lzma(const ValidateInput& in) {
  ByteView v = in.image.tail(in.start);
  auto props = v.u8(0);
  auto dict = v.u32le(1);
  auto usize = v.u64le(5);
  auto rc0 = v.u8(13);
  if (!props || !dict || !usize || !rc0) return std::nullopt;
  if (*props >= 225) return std::nullopt;
  const unsigned pb = *props / 45, lp = (*props % 45) / 9, lc = *props % 9;
  if (lc + lp > 4) return std::nullopt;  // LZMA1 as liblzma decodes it
  // Dictionary: 2^n or 2^n + 2^(n-1), between 4 KiB and 1.5 GiB.
  if (*dict < 4096 || *dict > 0x60000000u) return std::nullopt;
  {
    uint32_t d = *dict;
    uint32_t top = 1u << (31 - __builtin_clz(d));
    if (d != top && d != top + (top >> 1)) return std::nullopt;
  }
  const bool known = *usize != UINT64_MAX;
  if (known && (*usize == 0 || *usize >= (1ull << 32))) return std::nullopt;
  if (*rc0 != 0) return std::nullopt;

  Hit hit;
  hit.offset = in.image.base() + in.start;
  hit.type = "lzma";
  hit.nesting = Nesting::Opaque;
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_alone_decoder(&s, kLzmaMemLimit) != LZMA_OK) return std::nullopt;
  Outcome o = run_lzma(s, v, kOutputCap);
  // An error in the first few hundred bytes, or before a useful amount of output, means it was not LZMA.
  if (o.status == Status::Error && (o.consumed < 512 || o.produced < kGoodOutput)) return std::nullopt;
  if (!apply_outcome(hit, o, in, in.start, "LZMA")) return std::nullopt;
  if (o.status == Status::Truncated && o.produced < kGoodOutput && o.consumed < 64) return std::nullopt;
  hit.description = "LZMA compressed data, properties: " + hex(*props) + " (lc=" + std::to_string(lc) +
                    " lp=" + std::to_string(lp) + " pb=" + std::to_string(pb) +
                    "), dictionary size: " + std::to_string(*dict) + " bytes, uncompressed size: " +
                    (known ? std::to_string(*usize) + " bytes" : std::string("unknown (end marker)"));
  if (known && o.status == Status::End && o.produced != *usize) {
    hit.confidence = Confidence::Medium;
    hit.diag(hit.offset + 5, Severity::Warning,
             "LZMA uncompressed size mismatch: header " + std::to_string(*usize) + ", decoded " +
                 std::to_string(o.produced));
  }
  return hit;
}

// ---------------------------------------------------------------- zstd (RFC 8878) ---------------------------------

class ZstdContext {
 public:
  ZstdContext() : ctx_(ZSTD_createDCtx()) {}
  ~ZstdContext() { ZSTD_freeDCtx(ctx_); }
  ZstdContext(const ZstdContext&) = delete;
  ZstdContext& operator=(const ZstdContext&) = delete;
  ZSTD_DCtx* reset() {
    if (!ctx_) return nullptr;
    ZSTD_DCtx_reset(ctx_, ZSTD_reset_session_and_parameters);
    return ctx_;
  }

 private:
  ZSTD_DCtx* ctx_;
};

Outcome decode_zstd(ByteView data) {
  thread_local ZstdContext context;
  Outcome o;
  ZSTD_DCtx* ctx = context.reset();
  if (!ctx) {
    o.error = "zstd init failed";
    return o;
  }
  uint8_t* out = scratch();
  ZSTD_inBuffer ib{data.data(), data.size(), 0};
  for (;;) {
    ZSTD_outBuffer ob{out, kScratchSize, 0};
    size_t rc = ZSTD_decompressStream(ctx, &ob, &ib);
    o.produced += ob.pos;
    o.consumed = ib.pos;
    if (ZSTD_isError(rc)) {
      o.status = Status::Error;
      o.error = ZSTD_getErrorName(rc);
      break;
    }
    if (rc == 0) {  // the frame is complete (and its checksum, if any, verified)
      o.status = Status::End;
      break;
    }
    if (ib.pos == ib.size && ob.pos < ob.size) {
      o.status = Status::Truncated;
      break;
    }
    if (o.produced >= kOutputCap) {
      o.status = Status::Capped;
      break;
    }
  }
  return o;
}

std::optional<Hit> validate_zstd(const ValidateInput& in) {
  ByteView v = in.image.tail(in.start);
  if (!v.matches(0, "\x28\xb5\x2f\xfd")) return std::nullopt;
  // Frame header descriptor: FCS flag (2 bits), single segment, unused, reserved (must be 0), checksum, dict id.
  auto fhd = v.u8(4);
  if (!fhd || (*fhd & 0x08)) return std::nullopt;
  const bool single = *fhd & 0x20;
  const bool has_checksum = *fhd & 0x04;
  uint64_t window = 0;
  if (!single) {
    auto wd = v.u8(5);
    if (!wd) return std::nullopt;
    unsigned exponent = *wd >> 3, mantissa = *wd & 7;
    if (10 + exponent > 31) return std::nullopt;  // window log above 31 is invalid
    uint64_t base = 1ull << (10 + exponent);
    window = base + (base / 8) * mantissa;
  }
  Hit hit;
  hit.offset = in.image.base() + in.start;
  hit.type = "zstd";
  hit.nesting = Nesting::Opaque;
  // The stable API gives the content size and dictionary id from the header bytes.
  const size_t head = std::min<size_t>(v.size(), 18);  // a frame header is at most 18 bytes
  const unsigned long long content = ZSTD_getFrameContentSize(v.data(), head);
  if (content == ZSTD_CONTENTSIZE_ERROR) return std::nullopt;
  const unsigned dict_id = ZSTD_getDictID_fromFrame(v.data(), head);
  std::string d = "Zstandard compressed data";
  if (window) d += ", window size: " + std::to_string(window);
  if (content != ZSTD_CONTENTSIZE_UNKNOWN) d += ", content size: " + std::to_string(content);
  if (has_checksum) d += ", has checksum";
  if (dict_id) d += ", dictionary id: " + std::to_string(dict_id);
  hit.description = d;
  Outcome o = decode_zstd(v);
  if (o.status == Status::Error && dict_id) {
    // Needs an external dictionary: the block structure still gives the frame size.
    size_t fs = ZSTD_findFrameCompressedSize(v.data(), v.size());
    if (ZSTD_isError(fs)) return std::nullopt;
    hit.confidence = Confidence::Low;
    hit.size = fs;
    hit.diag(hit.offset, Severity::Info, "frame needs dictionary " + std::to_string(dict_id) + ": not decoded");
    return hit;
  }
  if (!apply_outcome(hit, o, in, in.start, "zstd")) return std::nullopt;
  if (o.status == Status::End) hit.description += ", uncompressed size: " + std::to_string(o.produced);
  return hit;
}

}  // namespace

void register_compression_validators(ValidatorRegistry& registry) {
  registry.add("gzip", "gzip stream (RFC 1952): header flags, inflate to the end, CRC32 and ISIZE trailer",
               validate_gzip);
  registry.add("bzip2", "bzip2 stream: 'BZh' header and block magic, decoded with libbz2 to the end of stream",
               validate_bzip2);
  registry.add("xz", "xz stream: header CRC32, decoded with liblzma to the end of stream", validate_xz);
  registry.add("lzma", "legacy .lzma (LZMA_Alone): strict header checks, decoded with liblzma", validate_lzma);
  registry.add("zstd", "Zstandard frame: frame header checks, decoded with libzstd to the end of the frame",
               validate_zstd);
}

}  // namespace fwcert
