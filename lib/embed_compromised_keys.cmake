# Writes a C++ file holding the text of data/compromised-keys.tsv (run at build time), so a copied binary has the list.
file(READ ${TSV} text)
set(body "// Generated from data/compromised-keys.tsv. Do not edit.\n#include \"fwcert/certs/compromised.hpp\"\nnamespace fwcert {\nstd::string_view builtin_compromised_keys_text() {\n  static constexpr char kText[] = R\"FWCK(${text})FWCK\";\n  return {kText, sizeof kText - 1};\n}\n}  // namespace fwcert\n")
file(WRITE ${OUT}.tmp "${body}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
