// Container readers. Each takes the container's bytes (a view starting at the structure), draws on a shared Budget,
// and returns entries plus diagnostics. None of them throws on bad bytes.
#pragma once

#include <functional>
#include <string>

#include "fwcert/extract/entry.hpp"

namespace fwcert {

// Streaming readers hand each file's content to a visitor where it is read (with the index its entry will have in
// the result); the entry keeps a copy only when the visitor returns true, else it records the size read in
// Entry::unkept_size. The content is valid during the call only.
using MemberVisitor = std::function<bool(size_t entry, const Entry& e, ByteView content)>;

struct CramfsReadOptions {
  uint32_t block_size = 0;  // 0: try 4096, then other page sizes, keep the one whose blocks inflate to the right sizes
  unsigned threads = 1;     // threads inflating file contents (the result is the same for any count)
  bool crc_verified = false;  // the caller already found the image's CRC-32 correct (a High walk hit): not redone
  // Streaming. When set, file contents are not gathered into the result: each file is inflated into a scratch buffer
  // of the thread reading it and handed to `visit` there (with the index of its entry in the result, on any thread,
  // in any order), and the entry keeps a copy only when visit returns true. An entry not kept has no content and
  // records what was read in Entry::unkept_size. A caller that looks at most files once (a certificate scan walks
  // them) saves the memory and the page faults of holding them all. Symlink targets are always kept.
  MemberVisitor visit;
};

// CramFS, both byte orders, v1/v2, holes, uncompressed and direct block pointers (flag 0x800), symlinks, devices.
// `fs` starts at the superblock (or at the 512-byte pad before it). Paths are absolute ("/etc/stunnel/client.crt").
ExtractResult read_cramfs(ByteView fs, Budget& budget, const CramfsReadOptions& options = {});

// A CramFS whose superblock is damaged or overwritten: rebuild the tree from the root directory inode that follows
// the superblock position (ossobv/vcutil#68). Sets `recovered`.
ExtractResult recover_cramfs(ByteView fs, Budget& budget, const CramfsReadOptions& options = {});

// Archives through libarchive, read from memory: zip/jar, tar, every cpio flavour, 7z, ar, iso9660 (and any filter
// libarchive applies on top: tar.gz, cpio.xz...). Encrypted entries are listed with encrypted = true. A hard link
// gets the content of the member it names (shared, not copied; drawn from the budget again, since it is walked
// again). With `visit`, members are streamed (see MemberVisitor): memory follows the largest member, not the total.
ExtractResult read_archive(ByteView archive, Budget& budget, const MemberVisitor& visit = {});

// One compressed stream (gzip, bzip2, xz, lzma, zstd, lz4, lzo = an lzop container) decoded to its end. `format` names the stream kind.
// A single entry with an empty path holds the output; trailing bytes after the stream are ignored.
ExtractResult read_stream(ByteView stream, const std::string& format, Budget& budget);

// squashfs (v4; compressions that the Debian build of libsquashfs supports).
// With `visit`, files are streamed (see MemberVisitor).
ExtractResult read_squashfs(ByteView fs, Budget& budget, const MemberVisitor& visit = {});

}  // namespace fwcert
