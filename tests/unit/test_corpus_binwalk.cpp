// Acceptance: every binwalk tests/inputs sample of a format we validate is found at offset 0 (skipped without corpus).
#include <catch2/catch.hpp>

#include "support.hpp"

using namespace fwtest;

TEST_CASE("binwalk tests/inputs: each sample of a supported format is found at offset 0") {
  struct Case {
    const char* file;
    const char* type;
  };
  const Case cases[] = {{"binwalk/tests/inputs/7z.bin", "7z"},
                        {"binwalk/tests/inputs/bzip2.bin", "bzip2"},
                        {"binwalk/tests/inputs/cramfs.bin", "cramfs"},
                        {"binwalk/tests/inputs/gzip.bin", "gzip"},
                        {"binwalk/tests/inputs/squashfs.bin", "squashfs"},
                        {"binwalk/tests/inputs/squashfs_v2.bin", "squashfs"},
                        {"binwalk/tests/inputs/zip.bin", "zip"},
                        {"binwalk/tests/inputs/zip_truncated.bin", "zip"},
                        {"binwalk/v2.3.4/testing/tests/input-vectors/firmware.squashfs", "squashfs"},
                        {"binwalk/v2.3.4/testing/tests/input-vectors/foobar.lzma", "lzma"},
                        {"binwalk/v2.3.4/testing/tests/input-vectors/dirtraversal.tar", "tar"}};
  for (const auto& c : cases) {
    auto p = corpus_file(c.file);
    if (!p) continue;
    INFO(c.file);
    fwcert::WalkOptions opts;  // the default a user gets: medium confidence and up
    Bytes data = read_file(*p);
    auto r = walker().walk(fwcert::ByteView(data.data(), data.size()), opts);
    REQUIRE_FALSE(r.hits.empty());
    CHECK(r.hits[0].offset == 0);
    CHECK(r.hits[0].type == c.type);
    // Exactly one structure of that type (no re-listing of its own internals).
    CHECK(hits_of(r, c.type).size() == 1);
  }
}

TEST_CASE("binwalk tests/inputs: the malformed and unsupported samples give no high-confidence hit at 0") {
  for (const char* f : {"binwalk/tests/inputs/png_malformed.bin", "binwalk/tests/inputs/pdf.bin", "binwalk/tests/inputs/qcow.bin"}) {
    auto p = corpus_file(f);
    if (!p) continue;
    INFO(f);
    auto r = walk_all(read_file(*p));
    for (const auto& h : r.hits) CHECK_FALSE((h.offset == 0 && h.confidence == fwcert::Confidence::High));
  }
}
