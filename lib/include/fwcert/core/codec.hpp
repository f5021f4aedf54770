// Block codecs: one self-contained compressed block decoded into a buffer the caller owns, with the output capped at
// the buffer's size. This is what filesystem readers need (a JFFS2 node, a UBIFS data node, a squashfs or CramFS
// block each decode to at most one page or block). Streams of unknown length (a gzip file, an xz archive) are read by
// extract/read_stream instead.
//
// Every decoder is bounded by the input and the output size: none reads past `in` or writes past `cap` bytes, and
// none throws. A block that does not end within `cap` bytes is an error (Overflow), not a truncated success.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fwcert/core/bytes.hpp"

namespace fwcert {

enum class BlockCodec {
  Zlib,      // RFC 1950 (zlib header and Adler-32), decoded with ISA-L
  Deflate,   // RFC 1951 raw deflate (UBIFS "zlib" nodes, zip members)
  Lzo1x,     // LZO1X (liblzo2 lzo1x_decompress_safe): JFFS2, UBIFS, squashfs
  Lzma,      // LZMA with the 13-byte "alone" header (props, dictionary size, size): squashfs 3 vendor LZMA, .lzma
  LzmaRaw,   // LZMA without a header: properties given in LzmaParams (JFFS2's OpenWrt LZMA, headerless vendor variants)
  Xz,        // xz container
  Zstd,      // one zstd frame
  Lz4,       // one LZ4 block (no frame)
  Bzip2,
  Rtime,     // JFFS2's "rtime" run-length coding (Linux fs/jffs2/compr_rtime.c); the output size must be known (cap)
};

std::string_view codec_name(BlockCodec c);

// For LzmaRaw: the literal context bits, literal position bits, position bits and dictionary size.
struct LzmaParams {
  uint8_t lc = 3, lp = 0, pb = 2;
  uint32_t dict_size = uint32_t{1} << 23;
};

enum class CodecStatus { Ok, Overflow, Truncated, Corrupt, Unsupported, NoMemory };

struct CodecOutcome {
  CodecStatus status = CodecStatus::Corrupt;
  uint64_t produced = 0;  // bytes written to out (also on error: what was decoded before it)
  std::string why;        // empty when ok
  bool ok() const { return status == CodecStatus::Ok; }
};

// Decodes the block `in` into out[0, cap). Keeps no state between calls; `lzma` applies to LzmaRaw only.
CodecOutcome decode_block(BlockCodec codec, ByteView in, uint8_t* out, uint64_t cap, const LzmaParams& lzma = {});

}  // namespace fwcert
