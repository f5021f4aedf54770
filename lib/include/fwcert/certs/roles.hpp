// Roles of certificates and keys, inferred from the firmware's own configuration files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fwcert {

// "This path (as the firmware sees it) holds a certificate or key playing this role."
struct RoleHint {
  std::string path;    // absolute path as written in the config ("/etc/stunnel/server.crt"), or a path relative to it
  std::string role;    // human text: "stunnel [ikvm] server certificate", "stunnel CA / client certificate", ...
  std::string kind;    // "certificate", "key", "ca" (trusted certificates), "chain"
  std::string source;  // where the hint came from: the config file's path and line, e.g. "/etc/stunnel/stunnel.conf:3"
};

// Recognises the config by its path and content and returns its hints: stunnel.conf, lighttpd.conf, nginx, Apache
// (SSLCertificateFile ...), JNLP files. `config_path` is the file's absolute path inside its filesystem.
std::vector<RoleHint> config_role_hints(const std::string& config_path, std::string_view text);

// Each parser, usable on its own.
std::vector<RoleHint> stunnel_role_hints(const std::string& config_path, std::string_view text);
std::vector<RoleHint> lighttpd_role_hints(const std::string& config_path, std::string_view text);
std::vector<RoleHint> nginx_role_hints(const std::string& config_path, std::string_view text);
std::vector<RoleHint> apache_role_hints(const std::string& config_path, std::string_view text);
// INI-style configs of other daemons ("[https]" ... "certificate = /etc/redfish/redfish.crt"): names that say
// certificate/key/CA with values that look like such files. config_role_hints falls back to it.
std::vector<RoleHint> generic_role_hints(const std::string& config_path, std::string_view text);

// Roles that follow from where a certificate or key sits, without any config: iKVM/JViewer jar resources
// ("res/client.crt" in a jar -> "iKVM client certificate"), jar signing blocks (META-INF/*.RSA|DSA|EC -> "jar signing
// certificate (<jar name>)"), CA bundles (ca-certificates.crt, cacert.pem, ca-bundle.crt -> "CA bundle"), JNLP.
// `location` is the node location in the tree grammar; `is_key` tells a key from a certificate.
std::vector<std::string> location_roles(const std::string& location, bool is_key);

}  // namespace fwcert
