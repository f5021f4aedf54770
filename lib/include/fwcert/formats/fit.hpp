// U-Boot FIT images: the /images/* payloads, for extraction (the walk's validator lives in firmware.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fwcert/core/bytes.hpp"
#include "fwcert/core/result.hpp"

namespace fwcert::fit {

struct Image {
  std::string unit, description, type, arch, os, compression;
  std::optional<ByteView> data;  // the payload (inline or external); nullopt when it lies outside the input
  uint64_t declared_size = 0;
};

// Lists the images of the FIT (or plain FDT: then empty) that starts at all[0].
Result<std::vector<Image>> list_images(ByteView all);

}  // namespace fwcert::fit
