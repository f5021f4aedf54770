#include "fwcert/extract/containers.hpp"

#include "fwcert/formats/jffs2.hpp"

namespace fwcert {
namespace {

ExtractResult cramfs(ByteView r, Budget& b, const ContainerReadOptions& o) { return read_cramfs(r, b, o); }
ExtractResult squashfs(ByteView r, Budget& b, const ContainerReadOptions& o) { return read_squashfs(r, b, o.visit); }
ExtractResult archive(ByteView r, Budget& b, const ContainerReadOptions& o) { return read_archive(r, b, o.visit); }

// One row per container type. Filesystems first; then what libarchive reads.
constexpr ContainerFormat kContainers[] = {
    {"cramfs", true, cramfs},
    {"squashfs", true, squashfs},
    {"jffs2", true, read_jffs2},
    {"zip", false, archive},
    {"jar", false, archive},
    {"tar", false, archive},
    {"cpio", false, archive},
    {"7z", false, archive},
    {"ar", false, archive},
    {"iso9660", false, archive},
};

}  // namespace

const ContainerFormat* find_container(std::string_view type) {
  for (const auto& c : kContainers)
    if (c.type == type) return &c;
  return nullptr;
}

}  // namespace fwcert
