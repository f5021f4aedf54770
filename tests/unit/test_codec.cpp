// core/codec: every block codec decodes what the reference encoder made, stops at the output cap, and reports
// truncated and damaged blocks as errors (never as a shorter success).
#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <lzo/lzo1x.h>
#include <zlib.h>
#include <zstd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "fwcert/core/codec.hpp"

using namespace fwcert;
using Bytes = std::vector<uint8_t>;

namespace {

Bytes text(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>("-----BEGIN CERTIFICATE-----\nMIIB"[i % 32] + (i / 997) % 3);
  return b;
}

Bytes zlib_encode(const Bytes& in, int window_bits) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&z, in.size()));
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Bytes lzma_encode(const Bytes& in, bool raw) {
  lzma_options_lzma opt{};
  lzma_lzma_preset(&opt, 6);
  opt.dict_size = 1u << 20;
  lzma_stream s = LZMA_STREAM_INIT;
  lzma_filter filters[2] = {{LZMA_FILTER_LZMA1, &opt}, {LZMA_VLI_UNKNOWN, nullptr}};
  REQUIRE((raw ? lzma_raw_encoder(&s, filters) : lzma_alone_encoder(&s, &opt)) == LZMA_OK);
  Bytes out(in.size() + 4096);
  s.next_in = in.data();
  s.avail_in = in.size();
  s.next_out = out.data();
  s.avail_out = out.size();
  REQUIRE(lzma_code(&s, LZMA_FINISH) == LZMA_STREAM_END);
  out.resize(s.total_out);
  lzma_end(&s);
  return out;
}

Bytes rtime_encode(const Bytes& in);  // below

Bytes encode(BlockCodec c, const Bytes& in) {
  switch (c) {
    case BlockCodec::Rtime: return rtime_encode(in);
    case BlockCodec::Zlib: return zlib_encode(in, 15);
    case BlockCodec::Deflate: return zlib_encode(in, -15);
    case BlockCodec::Lzma: return lzma_encode(in, false);
    case BlockCodec::LzmaRaw: return lzma_encode(in, true);
    case BlockCodec::Xz: {
      Bytes out(lzma_stream_buffer_bound(in.size()));
      size_t pos = 0;
      REQUIRE(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, nullptr, in.data(), in.size(), out.data(), &pos,
                                      out.size()) == LZMA_OK);
      out.resize(pos);
      return out;
    }
    case BlockCodec::Zstd: {
      Bytes out(ZSTD_compressBound(in.size()));
      out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3));
      return out;
    }
    case BlockCodec::Lz4: {
      Bytes out(LZ4_compressBound(static_cast<int>(in.size())));
      out.resize(LZ4_compress_default(reinterpret_cast<const char*>(in.data()), reinterpret_cast<char*>(out.data()),
                                      static_cast<int>(in.size()), static_cast<int>(out.size())));
      return out;
    }
    case BlockCodec::Lzo1x: {
      REQUIRE(lzo_init() == LZO_E_OK);
      Bytes work(LZO1X_1_MEM_COMPRESS), out(in.size() + in.size() / 16 + 64 + 3);
      lzo_uint n = out.size();
      REQUIRE(lzo1x_1_compress(in.data(), in.size(), out.data(), &n, work.data()) == LZO_E_OK);
      out.resize(n);
      return out;
    }
    case BlockCodec::Bzip2: {
      Bytes out(in.size() + in.size() / 100 + 600);
      unsigned n = static_cast<unsigned>(out.size());
      REQUIRE(BZ2_bzBuffToBuffCompress(reinterpret_cast<char*>(out.data()), &n,
                                       const_cast<char*>(reinterpret_cast<const char*>(in.data())),
                                       static_cast<unsigned>(in.size()), 9, 0, 0) == BZ_OK);
      out.resize(n);
      return out;
    }
  }
  return {};
}

}  // namespace

TEST_CASE("codec: every block codec round-trips, stops at its room and refuses truncated and damaged blocks") {
  const auto codec = GENERATE(BlockCodec::Zlib, BlockCodec::Deflate, BlockCodec::Lzo1x, BlockCodec::Lzma,
                              BlockCodec::LzmaRaw, BlockCodec::Xz, BlockCodec::Zstd, BlockCodec::Lz4,
                              BlockCodec::Bzip2);
  INFO(codec_name(codec));
  const Bytes plain = text(20000);
  const Bytes packed = encode(codec, plain);
  REQUIRE(packed.size() < plain.size());

  Bytes out(plain.size());
  CodecOutcome r = decode_block(codec, ByteView(packed.data(), packed.size()), out.data(), out.size());
  REQUIRE(r.ok());
  CHECK(r.why.empty());
  CHECK(r.produced == plain.size());
  CHECK(out == plain);

  // Less room than the block needs: an error, never a silently shorter block.
  Bytes small(plain.size() / 2);
  r = decode_block(codec, ByteView(packed.data(), packed.size()), small.data(), small.size());
  CHECK_FALSE(r.ok());
  CHECK(r.produced <= small.size());

  // Truncated: an error, except for raw LZMA without an end marker, whose output is then shorter than expected.
  r = decode_block(codec, ByteView(packed.data(), packed.size() / 2), out.data(), out.size());
  CHECK((!r.ok() || r.produced < plain.size()));

  // Damaged: never more output than room, and no crash (the sanitizer build checks the bounds).
  Bytes bad = packed;
  for (size_t i = 8; i < bad.size(); i += 7) bad[i] ^= 0x5A;
  r = decode_block(codec, ByteView(bad.data(), bad.size()), out.data(), out.size());
  CHECK(r.produced <= out.size());
  if (codec == BlockCodec::Zlib || codec == BlockCodec::Xz || codec == BlockCodec::Bzip2) CHECK_FALSE(r.ok());

  // Empty input.
  r = decode_block(codec, ByteView(), out.data(), out.size());
  CHECK((!r.ok() || r.produced == 0));
}

TEST_CASE("codec: raw LZMA takes the caller's properties; out-of-range ones are refused") {
  const Bytes plain = text(5000);
  const Bytes packed = lzma_encode(plain, true);
  Bytes out(plain.size());
  LzmaParams p;
  p.lc = 3, p.lp = 0, p.pb = 2, p.dict_size = 1u << 20;
  CHECK(decode_block(BlockCodec::LzmaRaw, ByteView(packed.data(), packed.size()), out.data(), out.size(), p).ok());
  CHECK(out == plain);
  p.lc = 4, p.lp = 4;
  const CodecOutcome r = decode_block(BlockCodec::LzmaRaw, ByteView(packed.data(), packed.size()), out.data(),
                                      out.size(), p);
  CHECK(r.status == CodecStatus::Unsupported);
}

namespace {
// The encoder of Linux fs/jffs2/compr_rtime.c (jffs2_rtime_compress), to check the decoder against: each byte is
// followed by the length (up to 255) of the run that repeats what followed that byte value's previous occurrence.
Bytes rtime_encode(const Bytes& in) {
  size_t positions[256] = {};
  Bytes out;
  size_t pos = 0;
  while (pos < in.size()) {
    const uint8_t value = in[pos];
    out.push_back(in[pos++]);
    size_t back = positions[value], run = 0;
    positions[value] = pos;
    while (back < pos && pos < in.size() && in[pos] == in[back] && run < 255) {
      ++pos;
      ++back;
      ++run;
    }
    out.push_back(static_cast<uint8_t>(run));
  }
  return out;
}
}  // namespace

TEST_CASE("codec: JFFS2 rtime decodes what the kernel's encoder makes, to the exact size, and refuses the rest") {
  Bytes in = text(4096);
  for (size_t i = 0; i < 300; ++i) in[1000 + i] = 'A';  // a long run: repeats of up to 255 that overlap themselves
  const Bytes enc = rtime_encode(in);
  REQUIRE(enc.size() < in.size());
  Bytes out(in.size());
  auto r = decode_block(BlockCodec::Rtime, ByteView(enc.data(), enc.size()), out.data(), out.size());
  REQUIRE(r.ok());
  CHECK(r.produced == in.size());
  CHECK(out == in);
  CHECK(codec_name(BlockCodec::Rtime) == "rtime");
  // One byte less room: a run would pass the end (Overflow), never a write past the cap.
  Bytes small(in.size() - 1);
  CHECK(decode_block(BlockCodec::Rtime, ByteView(enc.data(), enc.size()), small.data(), small.size()).status ==
        CodecStatus::Overflow);
  // Input cut short of the size asked for.
  CHECK(decode_block(BlockCodec::Rtime, ByteView(enc.data(), enc.size() / 2), out.data(), out.size()).status ==
        CodecStatus::Truncated);
  // Hostile input: every repeat 255, far more than the room.
  Bytes hostile(64, 0xFF);
  Bytes room(16);
  CHECK(decode_block(BlockCodec::Rtime, ByteView(hostile.data(), hostile.size()), room.data(), room.size()).status ==
        CodecStatus::Overflow);
}
