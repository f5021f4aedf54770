#include "fwcert/extract/containers.hpp"

#include "fwcert/formats/ubi.hpp"
#include "fwcert/formats/ubifs.hpp"

namespace fwcert {
namespace {

ExtractResult cramfs(ByteView r, Budget& b, const ContainerReadOptions& o) { return read_cramfs(r, b, o); }
ExtractResult squashfs(ByteView r, Budget& b, const ContainerReadOptions& o) { return read_squashfs(r, b, o.visit); }
ExtractResult archive(ByteView r, Budget& b, const ContainerReadOptions& o) { return read_archive(r, b, o.visit); }

// One row per container type. Filesystems first; then what libarchive reads.
constexpr ContainerFormat kContainers[] = {
    {"cramfs", true, cramfs},
    {"squashfs", true, squashfs},
    {"ubi", false, read_ubi},  // members: the volumes by name ("rofs")
    {"ubifs", true, read_ubifs},
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
