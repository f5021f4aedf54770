// The config parsers that name certificate and key roles (stunnel, lighttpd, nginx, Apache, INI-like, JNLP) and the
// role guess from a location. The first byte picks the file name, so each parser sees every input.
#include <string>
#include <string_view>

#include "fuzz_common.hpp"
#include "fwcert/certs/roles.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const names[] = {"/etc/stunnel/stunnel.conf", "/etc/lighttpd/lighttpd.conf",
                                      "/etc/nginx/nginx.conf",     "/etc/apache2/sites-enabled/ssl.conf",
                                      "/etc/app/settings.ini",     "/usr/share/web/kvm.jnlp"};
  if (size == 0) return 0;
  const std::string name = names[data[0] % (sizeof names / sizeof names[0])];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)fwcert::config_role_hints(name, text);
  (void)fwcert::stunnel_role_hints(name, text);
  (void)fwcert::lighttpd_role_hints(name, text);
  (void)fwcert::nginx_role_hints(name, text);
  (void)fwcert::apache_role_hints(name, text);
  (void)fwcert::generic_role_hints(name, text);
  (void)fwcert::location_roles(std::string(text.substr(0, 4096)), (data[0] & 0x80) != 0);
  return 0;
}
