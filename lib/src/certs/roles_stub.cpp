// Placeholder until the role module lands.
#include "fwcert/certs/roles.hpp"
namespace fwcert {
std::vector<RoleHint> config_role_hints(const std::string&, std::string_view) { return {}; }
std::vector<RoleHint> stunnel_role_hints(const std::string&, std::string_view) { return {}; }
std::vector<RoleHint> lighttpd_role_hints(const std::string&, std::string_view) { return {}; }
std::vector<RoleHint> nginx_role_hints(const std::string&, std::string_view) { return {}; }
std::vector<RoleHint> apache_role_hints(const std::string&, std::string_view) { return {}; }
std::vector<std::string> location_roles(const std::string&, bool) { return {}; }
}  // namespace fwcert
