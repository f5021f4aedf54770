// Archive and compressed-stream readers. Archives (zip/jar, tar, cpio, 7z, ar, iso9660, plus any compression filter
// on top) go through libarchive reading from memory; single compressed streams are decoded with zlib, libbz2,
// liblzma and libzstd directly (exact end-of-stream, truncation and check errors), lz4 through libarchive's "raw"
// format. Nothing here throws on bad bytes, and every byte produced is drawn from the shared Budget.
#include <archive.h>
#include <archive_entry.h>
#include <bzlib.h>
#include <lzma.h>
#include <lzo/lzo1x.h>
#include <isa-l/igzip_lib.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <new>
#include <cctype>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "fwcert/core/big_block.hpp"
#include "fwcert/extract/readers.hpp"

namespace fwcert {
namespace {

constexpr size_t kChunk = 64 * 1024;
// Consecutive header errors (RETRY/FAILED) tolerated before a damaged archive is abandoned: libarchive resyncs on
// some formats (tar, cpio skip junk), but a corrupt archive must not keep us looping.
constexpr int kMaxConsecutiveErrors = 8;
constexpr uint64_t kMiB = uint64_t{1} << 20;

struct ArchiveReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveReadDeleter>;

std::string error_text(archive* a) {
  const char* s = archive_error_string(a);
  return s && *s ? std::string(s) : std::string("unknown libarchive error");
}

bool mentions_encryption(const std::string& s) {
  // libarchive's messages for data it cannot decrypt: "Passphrase required for this entry", "Encrypted file is
  // unsupported", "Incorrect passphrase", "The archive header is encrypted, but currently not supported".
  std::string lower = s;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return lower.find("encrypt") != std::string::npos || lower.find("passphrase") != std::string::npos ||
         lower.find("password") != std::string::npos;
}

void add(std::vector<Diagnostic>& to, uint64_t at, Severity s, std::string message) {
  to.push_back({at, s, std::move(message)});
}

// Which limit produced `cap` for an entry, for a diagnostic that names it.
std::string time_limit_name(const Budget& budget) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "time limit (%g s)", budget.deadline().limit());
  return buf;
}

std::string limit_name(const Budget& budget, uint64_t compressed, uint64_t cap) {
  if (budget.deadline().hit()) return time_limit_name(budget);
  const ExtractLimits& l = budget.limits();
  uint64_t left = l.max_total_bytes - budget.used_bytes();
  if (cap == left && left <= l.max_file_bytes)
    return "total output limit (" + std::to_string(l.max_total_bytes) + " bytes)";
  if (cap == l.max_file_bytes) return "per-file limit (" + std::to_string(l.max_file_bytes) + " bytes)";
  return "compression ratio limit (" + std::to_string(l.max_ratio) + ":1 of " + std::to_string(compressed) +
         " input bytes)";
}

// Output collector shared by the stream decoders: keeps at most `cap` bytes, each drawn from the budget. The bytes
// go to a BigBlock (huge pages, no per-page faults) that grows by doubling from a size hint; decoders either put()
// what they decoded elsewhere or decode straight into room() and commit() it.
class Sink {
 public:
  Sink(Budget& budget, uint64_t compressed, uint64_t max = ~uint64_t{0}, uint64_t size_hint = 0)
      : budget_(budget), compressed_(compressed), cap_(std::min(budget.allowance(compressed), max)),
        out_(std::min(size_hint, cap_), cap_) {}
  // Room for up to `want` more bytes, fewer near the cap (0 at it); nullptr when memory cannot be had.
  std::pair<uint8_t*, size_t> room(size_t want) {
    auto [dst, n] = out_.room(want);
    return {dst, static_cast<size_t>(std::min<uint64_t>(n, want))};
  }
  // Keeps n bytes written at room(); false when a limit stopped it (the bytes past the limit are dropped).
  bool commit(size_t n) {
    if (n == 0) return true;
    size_t take = n;
    if (!budget_.take_bytes(take)) {
      // Total limit: take what is left of it.
      uint64_t left = budget_.limits().max_total_bytes - budget_.used_bytes();
      take = static_cast<size_t>(std::min<uint64_t>(take, left));
      budget_.take_bytes(take);
    }
    out_.produced(take);
    if (take < n || budget_.out_of_time()) {  // the time limit is asked once per block decoded
      limited_ = true;
      return false;
    }
    return true;
  }
  // Appends what fits; false when a limit stopped it (the limit is then named by limit()).
  bool put(const uint8_t* p, size_t n) {
    if (n == 0) return true;
    auto [dst, fit] = room(n);
    if (dst) std::memcpy(dst, p, fit);
    const bool ok = commit(fit);
    if (fit < n) limited_ = true;
    return ok && fit == n;
  }
  bool limited() const { return limited_; }
  std::string limit() const {
    if (budget_.deadline().hit()) return time_limit_name(budget_);
    if (budget_.used_bytes() >= budget_.limits().max_total_bytes)
      return "total output limit (" + std::to_string(budget_.limits().max_total_bytes) + " bytes)";
    return limit_name(budget_, compressed_, cap_);
  }
  // A copy of the output (peeks at small layers).
  Buffer take() const { return size() ? Buffer(out_.data(), out_.data() + size()) : Buffer(); }
  // The output as an entry's content.
  void give_to(Entry& e) {
    const size_t n = size();
    auto block = out_.release();
    if (!block) return;
    e.view = ByteView(block->data(), n);
    e.keep = std::move(block);
  }
  size_t size() const { return static_cast<size_t>(out_.size()); }

 private:
  Budget& budget_;
  uint64_t compressed_;
  uint64_t cap_;
  GrowingBlock out_;  // huge pages, grown by doubling from the size hint
  bool limited_ = false;
};

// ---------------------------------------------------------------------------------------------------------------
// Single compressed streams

struct StreamOutcome {
  bool ended = false;       // the decoder saw the stream's end
  bool error = false;       // the decoder reported damaged data
  std::string message;      // what went wrong
  uint64_t consumed = 0;    // input bytes used (when ended: the stream's compressed size)
};

// gzip through ISA-L's igzip (two to three times zlib's speed): the wrapper is parsed and CRC-32/ISIZE checked, and
// decoding stops at the end of the first member.
StreamOutcome decode_gzip(ByteView in, Sink& sink) {
  StreamOutcome o;
  auto state = std::make_unique<inflate_state>();
  inflate_state* st = state.get();
  isal_inflate_init(st);
  st->crc_flag = ISAL_GZIP;
  uint64_t fed = 0;
  st->avail_in = 0;
  for (;;) {
    if (st->avail_in == 0 && fed < in.size()) {
      const uint64_t more = std::min<uint64_t>(in.size() - fed, 1u << 30);
      st->next_in = const_cast<uint8_t*>(in.data() + fed);
      st->avail_in = static_cast<uint32_t>(more);
      fed += more;
    }
    // Decode straight into the sink; at its cap, one more chunk aside tells whether the stream goes on.
    auto [dst, room] = sink.room(kChunk);
    std::vector<uint8_t> aside;
    if (!dst) {
      aside.resize(kChunk);
      dst = aside.data();
      room = aside.size();
    }
    st->next_out = dst;
    st->avail_out = static_cast<uint32_t>(room);
    const int r = isal_inflate(st);
    const size_t produced = room - st->avail_out;
    if (aside.empty() ? !sink.commit(produced) : !sink.put(aside.data(), produced)) break;
    if (r < 0) {
      o.error = true;
      o.message = r == ISAL_INCORRECT_CHECKSUM ? "CRC-32 or length trailer mismatch"
                  : r == ISAL_INVALID_WRAPPER  ? "invalid gzip header"
                                               : "inflate error " + std::to_string(r);
      break;
    }
    if (st->block_state == ISAL_BLOCK_FINISH) {
      o.ended = true;
      break;
    }
    if (produced == 0 && st->avail_in == 0 && fed >= in.size()) break;  // input ended first: truncated
  }
  // Bytes read ahead into the bit buffer are not consumed.
  const uint64_t buffered = st->read_in_length > 0 ? static_cast<uint64_t>(st->read_in_length) / 8 : 0;
  const uint64_t used = fed - st->avail_in;
  o.consumed = used - std::min(buffered, used);
  return o;
}

StreamOutcome decode_bzip2(ByteView in, Sink& sink) {
  StreamOutcome o;
  bz_stream z{};
  if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK) {
    o.error = true;
    o.message = "bzip2 init failed";
    return o;
  }
  std::unique_ptr<bz_stream, int (*)(bz_stream*)> guard(&z, BZ2_bzDecompressEnd);
  std::vector<uint8_t> buf(kChunk);
  size_t fed = 0;
  for (;;) {
    if (z.avail_in == 0 && fed < in.size()) {
      size_t more = std::min<size_t>(in.size() - fed, 1u << 30);
      z.next_in = reinterpret_cast<char*>(const_cast<uint8_t*>(in.data() + fed));
      z.avail_in = static_cast<unsigned>(more);
      fed += more;
    }
    z.next_out = reinterpret_cast<char*>(buf.data());
    z.avail_out = static_cast<unsigned>(buf.size());
    int r = BZ2_bzDecompress(&z);
    size_t produced = buf.size() - z.avail_out;
    if (!sink.put(buf.data(), produced)) break;
    if (r == BZ_STREAM_END) {
      o.ended = true;
      break;
    }
    if (r != BZ_OK) {
      o.error = true;
      o.message = "bzip2 error " + std::to_string(r) + (r == BZ_DATA_ERROR ? " (data error, bad CRC or block)" : "");
      break;
    }
    if (produced == 0 && z.avail_in == 0 && fed >= in.size()) break;  // input exhausted
  }
  o.consumed = (uint64_t{z.total_in_hi32} << 32) | z.total_in_lo32;
  return o;
}

StreamOutcome decode_lzma(ByteView in, Sink& sink, bool xz) {
  StreamOutcome o;
  lzma_stream z = LZMA_STREAM_INIT;
  // xz: first stream only (no LZMA_CONCATENATED), so trailing bytes are left alone. lzma: the legacy .lzma
  // ("alone") header with 13 bytes of properties and size. The memory limit matters: liblzma allocates the whole
  // dictionary the header asks for (up to 4 GiB) before decoding a byte; xz -9 needs 65 MiB.
  const uint64_t memlimit = uint64_t{256} << 20;
  lzma_ret init = xz ? lzma_stream_decoder(&z, memlimit, 0) : lzma_alone_decoder(&z, memlimit);
  if (init != LZMA_OK) {
    o.error = true;
    o.message = "liblzma init failed";
    return o;
  }
  std::unique_ptr<lzma_stream, void (*)(lzma_stream*)> guard(&z, lzma_end);
  std::vector<uint8_t> buf(kChunk);
  z.next_in = in.data();
  z.avail_in = in.size();
  for (;;) {
    z.next_out = buf.data();
    z.avail_out = buf.size();
    lzma_action action = z.avail_in == 0 ? LZMA_FINISH : LZMA_RUN;
    lzma_ret r = lzma_code(&z, action);
    size_t produced = buf.size() - z.avail_out;
    if (!sink.put(buf.data(), produced)) break;
    if (r == LZMA_STREAM_END) {
      o.ended = true;
      break;
    }
    if (r == LZMA_BUF_ERROR) break;  // no progress possible: input exhausted before the end
    if (r != LZMA_OK) {
      o.error = true;
      switch (r) {
        case LZMA_FORMAT_ERROR: o.message = "not a valid header"; break;
        case LZMA_OPTIONS_ERROR: o.message = "unsupported options"; break;
        case LZMA_DATA_ERROR: o.message = "data error"; break;
        case LZMA_MEM_ERROR: o.message = "out of memory"; break;
        case LZMA_MEMLIMIT_ERROR: o.message = "dictionary larger than the 256 MiB memory limit"; break;
        default: o.message = "liblzma error " + std::to_string(static_cast<int>(r)); break;
      }
      break;
    }
    if (z.avail_in == 0 && produced == 0 && action == LZMA_FINISH) break;
  }
  o.consumed = z.total_in;
  return o;
}

StreamOutcome decode_zstd(ByteView in, Sink& sink) {
  StreamOutcome o;
  std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream*)> z(ZSTD_createDStream(), ZSTD_freeDStream);
  if (!z || ZSTD_isError(ZSTD_initDStream(z.get()))) {
    o.error = true;
    o.message = "zstd init failed";
    return o;
  }
  // Refuse windows above 128 MiB: a frame header can ask for up to 2 GiB of window memory.
  ZSTD_DCtx_setParameter(z.get(), ZSTD_d_windowLogMax, 27);
  std::vector<uint8_t> buf(kChunk);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  for (;;) {
    ZSTD_outBuffer output{buf.data(), buf.size(), 0};
    size_t r = ZSTD_decompressStream(z.get(), &output, &input);
    if (!sink.put(buf.data(), output.pos)) break;
    if (ZSTD_isError(r)) {
      o.error = true;
      o.message = ZSTD_getErrorName(r);
      break;
    }
    if (r == 0) {  // a frame is complete: the first one is the stream
      o.ended = true;
      break;
    }
    if (input.pos == input.size && output.pos < output.size) break;  // input exhausted mid-frame
  }
  o.consumed = input.pos;
  return o;
}

// lzop, the container U-Boot's "lzo" compression uses (lzop's file format; every integer big-endian): a 9-byte magic,
// a header (versions, method, flags, mode, mtimes, name, checksum; an extra field and a filter when flagged), then
// blocks {u32 uncompressed size (0 ends the stream), u32 compressed size, optional checksums, data}: a block whose
// two sizes are equal is stored, any other is LZO1X. Decoded with Debian's liblzo2 (lzo1x_decompress_safe).
StreamOutcome decode_lzop(ByteView in, Sink& sink) {
  StreamOutcome o;
  static const bool lzo_ok = lzo_init() == LZO_E_OK;
  auto fail = [&](uint64_t at, std::string why) {
    o.error = true;
    o.message = std::move(why);
    o.consumed = at;
    return o;
  };
  if (!lzo_ok) return fail(0, "liblzo2 initialisation failed");
  if (!in.matches(0, std::string_view("\x89LZO\x00\r\n\x1a\n", 9))) return fail(0, "not an lzop stream");
  Reader r(in, 9, true);
  auto version = r.u16();
  if (!version || !r.skip(2)) return fail(r.pos(), "truncated lzop header");  // lib_version
  if (*version >= 0x0940 && !r.skip(2)) return fail(r.pos(), "truncated lzop header");  // version_needed
  auto method = r.u8();
  if (!method || (*version >= 0x0940 && !r.skip(1))) return fail(r.pos(), "truncated lzop header");  // level
  if (*method < 1 || *method > 3) return fail(r.pos(), "unknown lzop method " + std::to_string(*method));
  auto flags = r.u32();
  if (!flags) return fail(r.pos(), "truncated lzop header");
  constexpr uint32_t kAdler32D = 0x1, kAdler32C = 0x2, kExtraField = 0x40, kCrc32D = 0x100, kCrc32C = 0x200,
                     kFilter = 0x800;
  if ((*flags & kFilter) && !r.skip(4)) return fail(r.pos(), "truncated lzop header");
  if (!r.skip(4 + 4) || (*version >= 0x0940 && !r.skip(4))) return fail(r.pos(), "truncated lzop header");  // mode, mtime
  auto name_len = r.u8();
  if (!name_len || !r.skip(*name_len) || !r.skip(4)) return fail(r.pos(), "truncated lzop header");  // name, checksum
  if (*flags & kExtraField) {
    auto extra = r.u32();
    if (!extra || !r.skip(*extra) || !r.skip(4)) return fail(r.pos(), "truncated lzop extra field");
  }
  std::vector<uint8_t> block;
  for (;;) {
    auto dst_len = r.u32();
    if (!dst_len) return fail(r.pos(), "truncated: no end-of-stream block");
    if (*dst_len == 0) {
      o.ended = true;
      break;
    }
    auto src_len = r.u32();
    if (!src_len) return fail(r.pos(), "truncated block header");
    if (*dst_len > (64u << 20) || *src_len > *dst_len) return fail(r.pos(), "implausible block sizes");
    const bool stored = *src_len == *dst_len;
    const int checksums = ((*flags & kAdler32D) ? 1 : 0) + ((*flags & kCrc32D) ? 1 : 0) +
                          (!stored ? ((*flags & kAdler32C) ? 1 : 0) + ((*flags & kCrc32C) ? 1 : 0) : 0);
    if (!r.skip(4u * static_cast<unsigned>(checksums))) return fail(r.pos(), "truncated block header");
    auto data = r.bytes(*src_len);
    if (!data) return fail(r.pos(), "truncated block data");
    if (stored) {
      if (!sink.put(data->data(), data->size())) break;
      continue;
    }
    block.resize(*dst_len);
    lzo_uint out_len = *dst_len;
    const int rc = lzo1x_decompress_safe(data->data(), data->size(), block.data(), &out_len, nullptr);
    if (rc != LZO_E_OK || out_len != *dst_len) return fail(r.pos() - *src_len, "LZO1X block error " + std::to_string(rc));
    if (!sink.put(block.data(), out_len)) break;
  }
  o.consumed = r.pos();
  return o;
}

// lz4 (frame and legacy) has no library linked here; libarchive's lz4 filter under the "raw" format decodes it.
StreamOutcome decode_with_libarchive(ByteView in, Sink& sink) {
  StreamOutcome o;
  ArchivePtr a(archive_read_new());
  if (!a) {
    o.error = true;
    o.message = "libarchive: out of memory";
    return o;
  }
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  archive_entry* e = nullptr;
  if (archive_read_open_memory(a.get(), in.data(), in.size()) != ARCHIVE_OK ||
      archive_read_next_header(a.get(), &e) != ARCHIVE_OK) {
    o.error = true;
    o.message = error_text(a.get());
    return o;
  }
  std::vector<uint8_t> buf(kChunk);
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
    if (n == 0) {
      o.ended = true;
      break;
    }
    if (n < 0) {
      std::string why = error_text(a.get());
      // libarchive reports a stream cut short as a read error: call that truncation, not damage.
      if (why.find("runcat") != std::string::npos || why.find("premature") != std::string::npos) {
        o.message = why;
      } else {
        o.error = true;
        o.message = why;
      }
      break;
    }
    if (!sink.put(buf.data(), static_cast<size_t>(n))) break;
  }
  int64_t used = archive_filter_bytes(a.get(), -1);
  o.consumed = used > 0 ? static_cast<uint64_t>(used) : 0;
  return o;
}

// ---------------------------------------------------------------------------------------------------------------
// Nested compression pre-check

// libarchive stacks up to 25 decompression filters while bidding, and a self-reproducing gzip (libarchive's own
// test_read_filter_gzip_recursive.gz) then takes minutes of CPU and gigabytes of memory before it fails. Real
// archives are compressed once (tar.gz) or at most twice, so the layers are peeled here first with our own bounded
// decoders (64 KiB of output per layer): three or more layers are refused before libarchive sees them.
constexpr int kMaxCompressionLayers = 2;

using DecodeFn = StreamOutcome (*)(ByteView, Sink&);

StreamOutcome decode_xz(ByteView in, Sink& sink) { return decode_lzma(in, sink, true); }
StreamOutcome decode_lzma_alone(ByteView in, Sink& sink) { return decode_lzma(in, sink, false); }

// The decoder for the compression whose magic starts `v`, or nullptr.
DecodeFn compression_at(ByteView v) {
  if (v.matches(0, std::string_view("\x1f\x8b\x08", 3))) return decode_gzip;
  if (v.matches(0, "BZh") && v.u8(3) >= '1' && v.u8(3) <= '9') return decode_bzip2;
  if (v.matches(0, std::string_view("\xfd" "7zXZ\0", 6))) return decode_xz;
  if (v.matches(0, std::string_view("\x28\xb5\x2f\xfd", 4))) return decode_zstd;
  // .lzma: properties byte lc/lp/pb < 225 (0x5D is the usual), dictionary size, then size or all-ones.
  if (v.matches(0, std::string_view("\x5d\0\0", 3))) return decode_lzma_alone;
  return nullptr;
}

// How many compression layers wrap the data (counted up to kMaxCompressionLayers + 1).
int compression_layers(ByteView v) {
  ExtractLimits peek_limits;
  Budget peek(peek_limits);  // private: peeking draws nothing from the caller's budget
  Buffer layer;
  int depth = 0;
  while (depth <= kMaxCompressionLayers) {
    DecodeFn decode = compression_at(v);
    if (!decode) break;
    ++depth;
    Sink sink(peek, v.size(), 64 * 1024);
    decode(v, sink);
    layer = sink.take();
    v = ByteView(layer.data(), layer.size());
  }
  return depth;
}

// ---------------------------------------------------------------------------------------------------------------
// Archives

// Maps libarchive's file type to ours; the hard-link case is handled by the caller.
EntryKind kind_of(archive_entry* e) {
  switch (archive_entry_filetype(e)) {
    case AE_IFDIR: return EntryKind::Directory;
    case AE_IFLNK: return EntryKind::Symlink;
    case AE_IFCHR: return EntryKind::CharDevice;
    case AE_IFBLK: return EntryKind::BlockDevice;
    case AE_IFIFO: return EntryKind::Fifo;
    case AE_IFSOCK: return EntryKind::Socket;
    default: return kind_from_mode(archive_entry_mode(e));
  }
}

// Formats whose entry data can be skipped without decoding it (plain members at known offsets). Everything else
// (7z solid blocks, anything under a compression filter) is drained by us, so the decoding work stays counted.
// A zip entry is only cheap to skip when its size is known (central directory); a streamed entry whose sizes
// follow the data (data descriptor) has to be decompressed to find its end.
bool cheap_skip(archive* a, bool size_known) {
  if (archive_filter_count(a) > 1 || archive_filter_code(a, 0) != ARCHIVE_FILTER_NONE) return false;
  switch (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) {
    case ARCHIVE_FORMAT_TAR:
    case ARCHIVE_FORMAT_CPIO:
    case ARCHIVE_FORMAT_AR:
    case ARCHIVE_FORMAT_ISO9660:
      return true;
    case ARCHIVE_FORMAT_ZIP: return size_known;
    default: return false;
  }
}

class ArchiveReader {
 public:
  ArchiveReader(ByteView view, Budget& budget, const MemberVisitor& visit)
      : view_(view), budget_(budget), visit_(visit) {
    // The decoding work one archive may cause (kept plus skipped output): the ratio limit over the whole input.
    work_cap_ = std::max<uint64_t>(kMiB, view.size() < (uint64_t{1} << 40) ? view.size() * budget.limits().max_ratio
                                                                          : ~uint64_t{0});
  }

  ExtractResult run() {
    if (view_.empty()) {
      add(result_.diagnostics, view_.base(), Severity::Error, "empty archive input");
      return std::move(result_);
    }
    ArchivePtr a(archive_read_new());
    if (!a) {
      add(result_.diagnostics, view_.base(), Severity::Error, "libarchive: out of memory");
      return std::move(result_);
    }
    if (int layers = compression_layers(view_); layers > kMaxCompressionLayers) {
      result_.limited = true;
      add(result_.diagnostics, view_.base(), Severity::Error,
          "compressed data nested " + std::to_string(layers) + "+ layers deep (recursive compression bomb?): not "
          "unpacked");
      return std::move(result_);
    }
    // libarchive's archive_read_support_format_all() without xar: no signature leads to a xar archive, and its reader
    // is the only part of libarchive that needs libxml2 (and with it ICU) at run time.
    for (auto support : {archive_read_support_format_7zip, archive_read_support_format_ar,
                         archive_read_support_format_cab, archive_read_support_format_cpio,
                         archive_read_support_format_empty, archive_read_support_format_iso9660,
                         archive_read_support_format_lha, archive_read_support_format_mtree,
                         archive_read_support_format_rar, archive_read_support_format_rar5,
                         archive_read_support_format_tar, archive_read_support_format_warc,
                         archive_read_support_format_zip})
      support(a.get());
    archive_read_support_filter_all(a.get());
    if (archive_read_open_memory(a.get(), view_.data(), view_.size()) != ARCHIVE_OK) {
      add(result_.diagnostics, view_.base(), Severity::Error, "not a readable archive: " + error_text(a.get()));
      return std::move(result_);
    }
    loop(a.get());
    if (archive_read_has_encrypted_entries(a.get()) > 0 && !saw_encrypted_)
      add(result_.diagnostics, view_.base(), Severity::Warning, "archive has encrypted entries");
    return std::move(result_);
  }

 private:
  // Absolute offset of the current header: only meaningful when no filter sits between the input and the format.
  uint64_t header_offset(archive* a) const {
    if (archive_filter_count(a) > 1 || archive_filter_code(a, 0) != ARCHIVE_FILTER_NONE) return view_.base();
    int64_t pos = archive_read_header_position(a);
    return pos >= 0 && static_cast<uint64_t>(pos) <= view_.size() ? view_.base() + static_cast<uint64_t>(pos)
                                                                   : view_.base();
  }

  // Decoding so far (format-level bytes for filtered input; our own count otherwise) against the archive's cap.
  bool over_work_cap(archive* a) const {
    int64_t decoded = archive_filter_count(a) > 1 ? archive_filter_bytes(a, 0) : 0;
    return work_ > work_cap_ || (decoded > 0 && static_cast<uint64_t>(decoded) > work_cap_);
  }

  void stop_for_work(uint64_t at) {
    result_.limited = true;
    add(result_.diagnostics, at, Severity::Warning,
        "stopped: compression ratio limit for the archive (" + std::to_string(budget_.limits().max_ratio) +
            ":1 of " + std::to_string(view_.size()) + " input bytes) reached");
  }

  void loop(archive* a) {
    int consecutive_errors = 0;
    // Each pass either yields an entry (bounded by the entry budget) or counts as an error (bounded below); this cap
    // is only a backstop against a reader that neither advances nor fails.
    uint64_t passes = 0;
    const uint64_t max_passes = budget_.limits().max_entries + 4 * kMaxConsecutiveErrors + 16;
    while (passes++ < max_passes) {
      archive_entry* e = nullptr;
      int r = archive_read_next_header(a, &e);
      uint64_t at = header_offset(a);
      if (r == ARCHIVE_EOF) return;
      if (over_work_cap(a)) {
        stop_for_work(at);
        return;
      }
      if (r == ARCHIVE_FATAL) {
        add(result_.diagnostics, at, Severity::Error, "archive damaged, reading stopped: " + error_text(a));
        return;
      }
      if (r == ARCHIVE_RETRY || (r == ARCHIVE_FAILED && (!e || !archive_entry_pathname(e)))) {
        add(result_.diagnostics, at, Severity::Warning, "bad entry header: " + error_text(a));
        if (++consecutive_errors >= kMaxConsecutiveErrors) {
          add(result_.diagnostics, at, Severity::Error,
              "stopped after " + std::to_string(kMaxConsecutiveErrors) + " consecutive header errors");
          return;
        }
        continue;
      }
      if (!e) return;  // not expected for OK/WARN/FAILED, but never dereference null
      if (budget_.out_of_time()) {
        result_.limited = true;
        add(result_.diagnostics, at, Severity::Error, "stopped: " + time_limit_name(budget_) + " reached");
        return;
      }
      if (!budget_.take_entry()) {
        result_.limited = true;
        add(result_.diagnostics, at, Severity::Warning,
            "stopped: entry limit (" + std::to_string(budget_.limits().max_entries) + " entries) reached");
        return;
      }
      Entry entry = describe(e, at);
      if (r == ARCHIVE_WARN)
        add(entry.diagnostics, at, Severity::Warning, "header of \"" + entry.path + "\": " + error_text(a));
      bool keep_going = true;
      if (r == ARCHIVE_FAILED) {
        // The header was read but the entry cannot be extracted (unsupported compression, encryption, ...): list it.
        std::string why = error_text(a);
        entry.complete = false;
        if (mentions_encryption(why)) mark_encrypted(entry, at, why);
        else add(entry.diagnostics, at, Severity::Warning, "entry \"" + entry.path + "\" unreadable: " + why);
        ++consecutive_errors;
      } else {
        consecutive_errors = 0;
        keep_going = read_data(a, e, entry, at);
      }
      resolve_hard_link(entry, at);
      result_.entries.push_back(std::move(entry));
      if (!keep_going) return;
      if (consecutive_errors >= kMaxConsecutiveErrors) {
        add(result_.diagnostics, at, Severity::Error,
            "stopped after " + std::to_string(kMaxConsecutiveErrors) + " consecutive unreadable entries");
        return;
      }
    }
    add(result_.diagnostics, view_.base(), Severity::Error, "stopped: archive reader made no progress");
  }

  Entry describe(archive_entry* e, uint64_t at) const {
    Entry entry;
    const char* path = archive_entry_pathname(e);
    entry.path = path ? path : "";
    entry.mode = static_cast<uint32_t>(archive_entry_mode(e));
    entry.kind = kind_of(e);
    entry.uid = static_cast<uint32_t>(archive_entry_uid(e));
    entry.gid = static_cast<uint32_t>(archive_entry_gid(e));
    if (archive_entry_mtime_is_set(e)) entry.mtime = static_cast<int64_t>(archive_entry_mtime(e));
    if (entry.kind == EntryKind::CharDevice || entry.kind == EntryKind::BlockDevice) {
      entry.rdev_major = static_cast<uint32_t>(archive_entry_rdevmajor(e));
      entry.rdev_minor = static_cast<uint32_t>(archive_entry_rdevminor(e));
    }
    if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0)
      entry.size = static_cast<uint64_t>(archive_entry_size(e));
    if (const char* hard = archive_entry_hardlink(e)) {
      // A hard link names an earlier member; the tree resolves it. Recorded as a file with the target kept.
      entry.link_target = hard;
      entry.kind = EntryKind::File;
      entry.diagnostics.push_back({at, Severity::Info, "hard link to " + entry.link_target});
    } else if (const char* sym = archive_entry_symlink(e)) {
      entry.link_target = sym;
    }
    return entry;
  }

  void mark_encrypted(Entry& entry, uint64_t at, const std::string& why) {
    entry.encrypted = true;
    entry.complete = false;
    saw_encrypted_ = true;
    add(entry.diagnostics, at, Severity::Warning,
        "entry \"" + entry.path + "\" is encrypted, content not available" + (why.empty() ? "" : ": " + why));
  }

  // Reads (or skips) the current entry's data. False when the whole archive should stop.
  bool read_data(archive* a, archive_entry* e, Entry& entry, uint64_t at) {
    if (archive_entry_is_data_encrypted(e) || archive_entry_is_metadata_encrypted(e)) {
      // No password is ever tried: list the entry and let libarchive skip its data on the next header.
      mark_encrypted(entry, at, "");
      return true;
    }
    return read_entry_data(a, e, entry, at);
  }

  bool read_entry_data(archive* a, archive_entry* e, Entry& entry, uint64_t at) {
    const bool is_file = entry.kind == EntryKind::File;
    const bool cheap = cheap_skip(a, archive_entry_size_is_set(e) != 0);
    const uint64_t cap = budget_.allowance(view_.size());
    const std::string cap_name = limit_name(budget_, view_.size(), cap);
    // Streaming: one scratch buffer for every member, handed to the visitor and let go unless it keeps a copy.
    Buffer local;
    Buffer& out = visit_ ? scratch_ : local;
    out.clear();
    // The size the header states (when it states one) is room to reserve, no more: growing by doubling would copy
    // and fault in the content about twice. A lie only costs address space: the reservation is bounded by the cap
    // and by 256 MiB (beyond that the buffer grows as before), and one that cannot be had is simply not made.
    if (is_file && archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {
      try {
        out.reserve(static_cast<size_t>(
            std::min<uint64_t>({static_cast<uint64_t>(archive_entry_size(e)), cap, uint64_t{256} << 20})));
      } catch (const std::bad_alloc&) {
      }
    }
    std::vector<uint8_t> chunk(kChunk);
    bool stopped_by_limit = false;
    std::string limit;
    for (;;) {
      la_ssize_t n = archive_read_data(a, chunk.data(), chunk.size());
      if (n == 0) break;
      if (n < 0) {
        std::string why = error_text(a);
        entry.complete = false;
        if (mentions_encryption(why)) {
          mark_encrypted(entry, at, why);
        } else {
          add(entry.diagnostics, at, Severity::Warning,
              "data of \"" + entry.path + "\" damaged after " + std::to_string(out.size()) + " bytes: " + why);
        }
        if (is_file) give(entry, out);
        // FATAL leaves the archive unusable; FAILED/WARN/RETRY let the next header be tried.
        return n != ARCHIVE_FATAL;
      }
      size_t got = static_cast<size_t>(n);
      work_ += got;
      if (budget_.out_of_time()) {  // asked once per chunk read
        limit = time_limit_name(budget_);
        stopped_by_limit = true;
        break;
      }
      if (!is_file) {  // directories/links/devices carry no content of interest: drained, still counted
        if (over_work_cap(a)) {
          stop_for_work(at);
          return false;
        }
        continue;
      }
      uint64_t room = cap - out.size();
      size_t take = got <= room ? got : static_cast<size_t>(room);
      if (take > 0 && !budget_.take_bytes(take)) {
        uint64_t left = budget_.limits().max_total_bytes - budget_.used_bytes();
        take = static_cast<size_t>(std::min<uint64_t>(take, left));
        budget_.take_bytes(take);
        limit = "total output limit (" + std::to_string(budget_.limits().max_total_bytes) + " bytes)";
      }
      out.insert(out.end(), chunk.data(), chunk.data() + take);
      if (take < got) {
        if (limit.empty()) limit = cap_name;
        stopped_by_limit = true;
        break;
      }
      if (over_work_cap(a)) {
        entry.complete = false;
        give(entry, out);
        stop_for_work(at);
        return false;
      }
    }
    const size_t read = out.size();
    if (is_file) give(entry, out);
    if (!stopped_by_limit) return true;

    entry.complete = false;
    result_.limited = true;
    add(entry.diagnostics, at, Severity::Warning,
        "content of \"" + entry.path + "\" cut at " + std::to_string(read) + " bytes by the " + limit);
    if (budget_.used_bytes() >= budget_.limits().max_total_bytes || budget_.deadline().hit()) {
      add(result_.diagnostics, at, budget_.deadline().hit() ? Severity::Error : Severity::Warning,
          "stopped: " + limit + " reached");
      return false;
    }
    if (cheap) return true;  // libarchive skips the rest without decoding it
    // Skipping means decoding the rest: drain it ourselves so the work stays under the archive's cap.
    for (;;) {
      la_ssize_t n = archive_read_data(a, chunk.data(), chunk.size());
      if (n == 0) return true;
      if (n < 0) return n != ARCHIVE_FATAL;
      work_ += static_cast<uint64_t>(n);
      if (over_work_cap(a)) {
        stop_for_work(at);
        return false;
      }
    }
  }

  // The content read for the current entry becomes the entry's; streaming, the visitor sees it first and the entry
  // keeps a copy only when it asks.
  void give(Entry& entry, Buffer& out) {
    if (out.empty()) return;
    if (!visit_) {
      entry.data = std::make_shared<const Buffer>(std::move(out));
      return;
    }
    if (visit_(result_.entries.size(), entry, ByteView(out.data(), out.size()))) {
      entry.data = std::make_shared<const Buffer>(std::move(out));  // moved, not copied: the next member starts afresh
      out = Buffer();
    } else {
      entry.unkept_size = out.size();
      out.clear();
    }
  }

  // Hard links (a File entry with a link target): tar stores the content once, under the first name, and later names
  // are links without data; cpio stores it with the last name, and earlier ones are empty. Every name gets the
  // content, shared with the member it names. Links only name members read before them, so there is no cycle and
  // no chain to follow (a link's content is already resolved when a later link names it); the bytes are drawn from
  // the budget again because every name is walked again.
  void resolve_hard_link(Entry& entry, uint64_t at) {
    if (entry.kind != EntryKind::File || entry.path.empty()) return;
    const size_t index = result_.entries.size();
    if (!entry.link_target.empty()) {
      auto it = files_.find(std::string(rootless(entry.link_target)));
      if (it == files_.end()) {
        add(entry.diagnostics, at, Severity::Warning,
            "hard link \"" + entry.path + "\": its target \"" + entry.link_target + "\" is not an earlier member");
      } else {
        Entry& target = result_.entries[it->second];
        const bool has = entry.data || !entry.view.empty() || entry.unkept_size;
        const bool target_has = target.data || !target.view.empty() || target.unkept_size;
        if (!has && target_has) share_content(target, entry, at);
        else if (has && !target_has) share_content(entry, target, at);
      }
    }
    files_[std::string(rootless(entry.path))] = index;
  }

  void share_content(const Entry& from, Entry& to, uint64_t at) {
    const uint64_t n = from.content().size();
    if (n > 0 && !budget_.take_bytes(n)) {
      result_.limited = true;
      to.complete = false;
      add(to.diagnostics, at, Severity::Warning,
          "hard link \"" + to.path + "\" left empty: total output limit (" +
              std::to_string(budget_.limits().max_total_bytes) + " bytes) reached");
      return;
    }
    to.data = from.data;
    to.view = from.view;
    to.keep = from.keep;
    to.unkept_size = from.unkept_size;  // streamed and let go: the same, for the same walk would find the same
    to.complete = from.complete;
    to.encrypted = from.encrypted;
  }

  static std::string_view rootless(std::string_view p) {
    for (;;) {
      if (p.size() >= 2 && p[0] == '.' && p[1] == '/') p.remove_prefix(2);
      else if (!p.empty() && p[0] == '/') p.remove_prefix(1);
      else return p;
    }
  }

  ByteView view_;
  Budget& budget_;
  const MemberVisitor& visit_;
  Buffer scratch_;  // streaming: the current member's content
  std::unordered_map<std::string, size_t> files_;  // file members by path (without "./" or "/"), for hard links
  ExtractResult result_;
  uint64_t work_ = 0;
  uint64_t work_cap_ = 0;
  bool saw_encrypted_ = false;
};

}  // namespace

ExtractResult read_archive(ByteView archive_bytes, Budget& budget, const MemberVisitor& visit) {
  try {
    return ArchiveReader(archive_bytes, budget, visit).run();
  } catch (const std::exception& ex) {  // allocation failure: report, never propagate
    ExtractResult r;
    r.failed = true;
    r.diagnostics.push_back(
        {archive_bytes.base(), Severity::Error, std::string("archive reader failed: ") + ex.what()});
    return r;
  }
}

ExtractResult read_stream(ByteView stream, const std::string& format, Budget& budget) {
  ExtractResult result;
  try {
    DecodeFn decode = nullptr;
    if (format == "gzip") decode = decode_gzip;
    else if (format == "bzip2") decode = decode_bzip2;
    else if (format == "xz") decode = decode_xz;
    else if (format == "lzma") decode = decode_lzma_alone;
    else if (format == "zstd") decode = decode_zstd;
    else if (format == "lz4") decode = decode_with_libarchive;
    else if (format == "lzo") decode = decode_lzop;
    else {
      result.diagnostics.push_back({stream.base(), Severity::Error, "unknown stream format \"" + format + "\""});
      return result;
    }
    if (!budget.take_entry()) {
      result.limited = true;
      result.diagnostics.push_back({stream.base(), Severity::Warning,
                                    "stopped: entry limit (" + std::to_string(budget.limits().max_entries) +
                                        " entries) reached"});
      return result;
    }
    // gzip says its output size in the trailer (mod 2^32; only a hint: the region may run past the member).
    uint64_t hint = 0;
    if (format == "gzip" && stream.size() >= 18) hint = stream.u32le(stream.size() - 4).value_or(0);
    Sink sink(budget, stream.size(), ~uint64_t{0}, hint);
    StreamOutcome o = decode(stream, sink);
    Entry entry;
    entry.kind = EntryKind::File;
    entry.mode = 0100644;
    if (sink.limited()) {
      entry.complete = false;
      result.limited = true;
      entry.diagnostics.push_back({stream.base(), Severity::Warning,
                                   format + " output cut at " + std::to_string(sink.size()) + " bytes by the " +
                                       sink.limit()});
    } else if (o.error) {
      entry.complete = false;
      entry.diagnostics.push_back({stream.base() + o.consumed, Severity::Warning,
                                   format + " stream damaged after " + std::to_string(sink.size()) +
                                       " output bytes: " + o.message});
    } else if (!o.ended) {
      entry.complete = false;
      entry.diagnostics.push_back({stream.base() + o.consumed, Severity::Warning,
                                   format + " stream truncated after " + std::to_string(sink.size()) +
                                       " output bytes" + (o.message.empty() ? "" : ": " + o.message)});
    } else if (o.consumed < stream.size() && format != "lz4") {
      entry.diagnostics.push_back({stream.base() + o.consumed, Severity::Info,
                                   std::to_string(stream.size() - o.consumed) +
                                       " bytes after the end of the stream ignored"});
    }
    entry.size = sink.size();
    sink.give_to(entry);
    result.entries.push_back(std::move(entry));
  } catch (const std::exception& ex) {
    result.failed = true;
    result.diagnostics.push_back({stream.base(), Severity::Error, std::string("stream reader failed: ") + ex.what()});
  }
  return result;
}

}  // namespace fwcert
