// Placeholder until the libarchive reader lands.
#include "fwcert/extract/readers.hpp"
namespace fwcert {
ExtractResult read_archive(ByteView, Budget&) { return {}; }
ExtractResult read_stream(ByteView, const std::string&, Budget&) { return {}; }
}  // namespace fwcert
