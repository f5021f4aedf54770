// Placeholder until the squashfs reader lands.
#include "fwcert/extract/readers.hpp"
namespace fwcert {
ExtractResult read_squashfs(ByteView, Budget&) { return {}; }
}  // namespace fwcert
