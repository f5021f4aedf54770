// Placeholder until the CramFS reader lands.
#include "fwcert/extract/readers.hpp"
namespace fwcert {
ExtractResult read_cramfs(ByteView, Budget&, const CramfsReadOptions&) { return {}; }
ExtractResult recover_cramfs(ByteView, Budget&, const CramfsReadOptions&) { return {}; }
}  // namespace fwcert
