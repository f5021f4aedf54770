#include "fwcert/core/codec.hpp"

#include <bzlib.h>
#include <isa-l/igzip_lib.h>
#include <lz4.h>
#include <lzma.h>
#include <lzo/lzo1x.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <climits>
#include <new>

namespace fwcert {
namespace {

constexpr uint64_t kLzmaMemLimit = uint64_t{256} << 20;  // an LZMA dictionary of at most 256 MiB

CodecOutcome fail(CodecStatus s, uint64_t produced, std::string why) { return {s, produced, std::move(why)}; }
CodecOutcome done(uint64_t produced) { return {CodecStatus::Ok, produced, {}}; }

uint32_t u32cap(uint64_t v) { return static_cast<uint32_t>(std::min<uint64_t>(v, UINT32_MAX)); }

CodecOutcome isal(ByteView in, uint8_t* out, uint64_t cap, bool zlib_wrapper) {
  auto st = std::unique_ptr<inflate_state>(new (std::nothrow) inflate_state);
  if (!st) return fail(CodecStatus::NoMemory, 0, "out of memory");
  isal_inflate_init(st.get());
  st->crc_flag = zlib_wrapper ? ISAL_ZLIB : ISAL_DEFLATE;
  st->next_in = const_cast<uint8_t*>(in.data());
  st->avail_in = u32cap(in.size());
  st->next_out = out;
  st->avail_out = u32cap(cap);
  const int rc = isal_inflate_stateless(st.get());
  switch (rc) {
    case ISAL_DECOMP_OK: return done(st->total_out);
    case ISAL_OUT_OVERFLOW: return fail(CodecStatus::Overflow, st->total_out, "block inflates to more than its room");
    case ISAL_END_INPUT: return fail(CodecStatus::Truncated, st->total_out, "compressed block is truncated");
    case ISAL_INCORRECT_CHECKSUM: return fail(CodecStatus::Corrupt, st->total_out, "Adler-32 checksum mismatch");
    case ISAL_INVALID_WRAPPER: return fail(CodecStatus::Corrupt, 0, "not a zlib stream (bad header)");
    default: return fail(CodecStatus::Corrupt, st->total_out, "inflate error " + std::to_string(rc));
  }
}

CodecOutcome lzo(ByteView in, uint8_t* out, uint64_t cap) {
  lzo_uint n = static_cast<lzo_uint>(cap);
  const int rc = lzo1x_decompress_safe(in.data(), in.size(), out, &n, nullptr);
  if (rc == LZO_E_OK || rc == LZO_E_INPUT_NOT_CONSUMED) return done(n);
  if (rc == LZO_E_OUTPUT_OVERRUN) return fail(CodecStatus::Overflow, n, "LZO block decodes to more than its room");
  if (rc == LZO_E_INPUT_OVERRUN) return fail(CodecStatus::Truncated, n, "LZO block is truncated");
  return fail(CodecStatus::Corrupt, n, "LZO error " + std::to_string(rc));
}

// Runs an initialised liblzma stream over the whole input into the output.
CodecOutcome run_lzma(lzma_stream& s, ByteView in, uint8_t* out, uint64_t cap) {
  s.next_in = in.data();
  s.avail_in = in.size();
  s.next_out = out;
  s.avail_out = cap;
  lzma_ret r = lzma_code(&s, LZMA_FINISH);
  const uint64_t produced = s.total_out;
  lzma_end(&s);
  if (r == LZMA_STREAM_END) return done(produced);
  if (r == LZMA_OK || r == LZMA_BUF_ERROR) {
    if (s.avail_out == 0) return fail(CodecStatus::Overflow, produced, "LZMA block decodes to more than its room");
    // A raw LZMA stream without an end marker stops here having produced all it has: fine when the input is used up.
    if (s.avail_in == 0 && produced > 0) return done(produced);
    return fail(CodecStatus::Truncated, produced, "LZMA block is truncated");
  }
  if (r == LZMA_MEM_ERROR || r == LZMA_MEMLIMIT_ERROR)
    return fail(CodecStatus::NoMemory, produced, "LZMA dictionary too large");
  return fail(CodecStatus::Corrupt, produced, "LZMA data error " + std::to_string(static_cast<int>(r)));
}

CodecOutcome lzma_alone(ByteView in, uint8_t* out, uint64_t cap) {
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_alone_decoder(&s, kLzmaMemLimit) != LZMA_OK) return fail(CodecStatus::NoMemory, 0, "LZMA init failed");
  return run_lzma(s, in, out, cap);
}

CodecOutcome lzma_raw(ByteView in, uint8_t* out, uint64_t cap, const LzmaParams& p) {
  if (p.lc > 4 || p.lp > 4 || p.pb > 4 || p.lc + p.lp > 4)
    return fail(CodecStatus::Unsupported, 0, "LZMA properties out of range");
  lzma_options_lzma opt{};
  if (lzma_lzma_preset(&opt, 6)) return fail(CodecStatus::Unsupported, 0, "LZMA preset unavailable");
  opt.lc = p.lc;
  opt.lp = p.lp;
  opt.pb = p.pb;
  opt.dict_size = std::max<uint32_t>(p.dict_size, LZMA_DICT_SIZE_MIN);
  if (opt.dict_size > kLzmaMemLimit) return fail(CodecStatus::NoMemory, 0, "LZMA dictionary too large");
  lzma_filter filters[2] = {{LZMA_FILTER_LZMA1, &opt}, {LZMA_VLI_UNKNOWN, nullptr}};
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_raw_decoder(&s, filters) != LZMA_OK) return fail(CodecStatus::Unsupported, 0, "LZMA init failed");
  return run_lzma(s, in, out, cap);
}

CodecOutcome xz(ByteView in, uint8_t* out, uint64_t cap) {
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&s, kLzmaMemLimit, 0) != LZMA_OK) return fail(CodecStatus::NoMemory, 0, "xz init failed");
  return run_lzma(s, in, out, cap);
}

CodecOutcome zstd(ByteView in, uint8_t* out, uint64_t cap) {
  ZSTD_DCtx* d = ZSTD_createDCtx();
  if (!d) return fail(CodecStatus::NoMemory, 0, "out of memory");
  ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 27);  // a window of at most 128 MiB
  const size_t n = ZSTD_decompressDCtx(d, out, cap, in.data(), in.size());
  ZSTD_freeDCtx(d);
  if (!ZSTD_isError(n)) return done(n);
  const auto code = ZSTD_getErrorCode(n);
  if (code == ZSTD_error_dstSize_tooSmall) return fail(CodecStatus::Overflow, 0, "zstd frame decodes to more than its room");
  if (code == ZSTD_error_srcSize_wrong) return fail(CodecStatus::Truncated, 0, "zstd frame is truncated");
  return fail(CodecStatus::Corrupt, 0, std::string("zstd: ") + ZSTD_getErrorName(n));
}

CodecOutcome lz4(ByteView in, uint8_t* out, uint64_t cap) {
  const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data()), reinterpret_cast<char*>(out),
                                    static_cast<int>(std::min<uint64_t>(in.size(), INT_MAX)),
                                    static_cast<int>(std::min<uint64_t>(cap, INT_MAX)));
  if (n >= 0) return done(static_cast<uint64_t>(n));
  return fail(CodecStatus::Corrupt, 0, "LZ4 block is corrupt, truncated or larger than its room");
}

CodecOutcome bzip2(ByteView in, uint8_t* out, uint64_t cap) {
  bz_stream z{};
  if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK) return fail(CodecStatus::NoMemory, 0, "bzip2 init failed");
  z.next_in = const_cast<char*>(reinterpret_cast<const char*>(in.data()));
  z.avail_in = u32cap(in.size());
  z.next_out = reinterpret_cast<char*>(out);
  z.avail_out = u32cap(cap);
  const int r = BZ2_bzDecompress(&z);
  const uint64_t produced = (uint64_t{z.total_out_hi32} << 32) | z.total_out_lo32;
  const unsigned left_out = z.avail_out;
  BZ2_bzDecompressEnd(&z);
  if (r == BZ_STREAM_END) return done(produced);
  if (r == BZ_OK) {
    if (left_out == 0) return fail(CodecStatus::Overflow, produced, "bzip2 block decodes to more than its room");
    return fail(CodecStatus::Truncated, produced, "bzip2 block is truncated");
  }
  if (r == BZ_MEM_ERROR) return fail(CodecStatus::NoMemory, produced, "out of memory");
  return fail(CodecStatus::Corrupt, produced, "bzip2 data error " + std::to_string(r));
}

// JFFS2 rtime (Linux fs/jffs2/compr_rtime.c, jffs2_rtime_decompress): pairs of (byte, repeat). Each byte is copied
// out, then `repeat` bytes are copied from where that byte value last ended a literal (positions[value], initially
// 0), byte by byte since the ranges may overlap. The stream carries no length: it is decoded until `cap` bytes are out,
// which is the node's dsize. Unlike the kernel's loop, every read and copy is bounds-checked.
CodecOutcome rtime(ByteView in, uint8_t* out, uint64_t cap) {
  uint64_t positions[256] = {};
  uint64_t outpos = 0, pos = 0;
  while (outpos < cap) {
    if (pos + 2 > in.size()) return fail(CodecStatus::Truncated, outpos, "rtime block is truncated");
    const uint8_t value = in.data()[pos++];
    uint64_t repeat = in.data()[pos++];
    out[outpos++] = value;
    uint64_t back = positions[value];
    positions[value] = outpos;
    if (repeat > cap - outpos) return fail(CodecStatus::Overflow, outpos, "rtime block decodes to more than its room");
    while (repeat--) out[outpos++] = out[back++];  // back < outpos always: overlapping runs repeat themselves
  }
  return done(outpos);
}

}  // namespace

std::string_view codec_name(BlockCodec c) {
  switch (c) {
    case BlockCodec::Zlib: return "zlib";
    case BlockCodec::Deflate: return "deflate";
    case BlockCodec::Lzo1x: return "lzo";
    case BlockCodec::Lzma: return "lzma";
    case BlockCodec::LzmaRaw: return "lzma-raw";
    case BlockCodec::Xz: return "xz";
    case BlockCodec::Zstd: return "zstd";
    case BlockCodec::Lz4: return "lz4";
    case BlockCodec::Bzip2: return "bzip2";
    case BlockCodec::Rtime: return "rtime";
  }
  return "?";
}

CodecOutcome decode_block(BlockCodec codec, ByteView in, uint8_t* out, uint64_t cap, const LzmaParams& lzma) {
  if (cap > 0 && !out) return fail(CodecStatus::Corrupt, 0, "no output buffer");
  switch (codec) {
    case BlockCodec::Zlib: return isal(in, out, cap, true);
    case BlockCodec::Deflate: return isal(in, out, cap, false);
    case BlockCodec::Lzo1x: return lzo(in, out, cap);
    case BlockCodec::Lzma: return lzma_alone(in, out, cap);
    case BlockCodec::LzmaRaw: return lzma_raw(in, out, cap, lzma);
    case BlockCodec::Xz: return xz(in, out, cap);
    case BlockCodec::Zstd: return zstd(in, out, cap);
    case BlockCodec::Lz4: return lz4(in, out, cap);
    case BlockCodec::Bzip2: return bzip2(in, out, cap);
    case BlockCodec::Rtime: return rtime(in, out, cap);
  }
  return fail(CodecStatus::Unsupported, 0, "unknown codec");
}

}  // namespace fwcert
