#!/usr/bin/env bash
# make-certs.sh — create the sample PEM certificates and keys in samples/certs/ ONCE.
#
# The output is committed: private keys are random, so rerunning this script gives NEW keys and
# signatures (same subjects, serials and validity windows). Every other generated sample
# (make-samples.sh, bench/make-bench-image.sh) is built from the committed files and is
# byte-for-byte reproducible. To regenerate anyway: samples/make-certs.sh --force
#
# Why `openssl ca`: OpenSSL 3.0's `req -x509` / `x509 -req` cannot set an explicit notBefore, but
# `openssl ca -startdate/-enddate` can (with -selfsign for self-signed certificates). Dates are
# given in GeneralizedTime form; OpenSSL encodes them per RFC 5280 (UTCTime up to 2049,
# GeneralizedTime from 2050), so web.pem's 2055 notAfter is a GeneralizedTime.
#
# | file                     | subject CN           | validity (UTC)                             | issuer       | key type                  |
# |--------------------------|----------------------|--------------------------------------------|--------------|---------------------------|
# | ca.crt / ca.key          | Sample BMC Vendor CA | 2016-01-01 00:00:00 -> 2036-01-01 00:00:00 | self         | RSA 2048, PKCS#8          |
# | client.crt / client.key  | IPMI                 | 2016-05-19 09:46:36 -> 2026-05-17 09:46:36 | self         | RSA 2048, PKCS#8          |
# | server.crt / server.key  | ikvm.bmc.example     | 2020-07-17 09:00:00 -> 2030-07-15 09:00:00 | sample CA    | RSA 2048, PKCS#1 (RSA PRIVATE KEY) |
# | web.pem (key, then cert) | bmc.example          | 2020-01-01 00:00:00 -> 2055-01-01 00:00:00 | self         | RSA 2048, PKCS#8          |
# | redfish.crt / .key       | redfish.bmc.example  | 2031-01-01 00:00:00 -> 2041-01-01 00:00:00 | sample CA    | EC P-256 (EC PRIVATE KEY) |
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out="$here/certs"
force=no
[[ "${1:-}" == "--force" ]] && force=yes

if [[ -f "$out/client.crt" && $force != yes ]]; then
    echo "make-certs.sh: $out already holds certificates (committed; keys are random)."
    echo "make-certs.sh: rerun with --force to create new keys; README.md is refreshed either way."
else
    command -v openssl >/dev/null || { echo "make-certs.sh: openssl not found" >&2; exit 1; }
    mkdir -p "$out"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT

    # Minimal `openssl ca` setup: a throw-away database, serials given explicitly per certificate.
    cat >"$tmp/ca.cnf" <<'CNF'
[ ca ]
default_ca = sample
[ sample ]
dir = .
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
email_in_dn = yes
[ anything ]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
emailAddress = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_selfsigned_leaf ]
basicConstraints = CA:FALSE
subjectKeyIdentifier = hash
[ v3_server ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::SAN
[ v3_web ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:bmc.example, IP:192.0.2.10
CNF
    cd "$tmp"
    mkdir newcerts
    : >index.txt
    export SAN="DNS:placeholder"

    # sign NAME SUBJ START END SERIAL EXT [CAKEY CACERT]   (self-signed when no CA is given)
    sign() {
        local name=$1 subj=$2 start=$3 end=$4 serial=$5 ext=$6
        openssl req -new -config ca.cnf -key "$name.key" -subj "$subj" -out "$name.csr"
        echo "$serial" >serial
        if [[ $# -ge 8 ]]; then
            openssl ca -batch -config ca.cnf -notext -extensions "$ext" -keyfile "$7" -cert "$8" \
                -startdate "$start" -enddate "$end" -in "$name.csr" -out "$name.tmp" 2>/dev/null
        else
            openssl ca -batch -config ca.cnf -notext -extensions "$ext" -selfsign -keyfile "$name.key" \
                -startdate "$start" -enddate "$end" -in "$name.csr" -out "$name.tmp" 2>/dev/null
        fi
        openssl x509 -in "$name.tmp" -out "$name.crt"   # plain PEM, no text dump
    }

    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ca.key 2>/dev/null
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out client.key 2>/dev/null
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out server.pk8 2>/dev/null
    openssl rsa -in server.pk8 -traditional -out server.key 2>/dev/null    # "RSA PRIVATE KEY"
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out web.key 2>/dev/null
    openssl ecparam -name prime256v1 -genkey -noout -out redfish.key        # "EC PRIVATE KEY"

    sign ca "/C=US/ST=California/L=San Jose/O=Sample BMC Vendor/OU=Certificate Authority/CN=Sample BMC Vendor CA" \
        20160101000000Z 20360101000000Z 01 v3_ca
    # Shape of the real Supermicro iKVM/stunnel client certificate (self-signed, 10 years).
    sign client "/C=US/ST=California/L=San Jose/O=Sample BMC Vendor/OU=Software/CN=IPMI/emailAddress=Email" \
        20160519094636Z 20260517094636Z 00E6A1B2C3D4E5F601 v3_selfsigned_leaf
    SAN="DNS:ikvm.bmc.example" sign server "/C=US/ST=California/L=San Jose/O=Sample BMC Vendor/OU=Software/CN=ikvm.bmc.example" \
        20200717090000Z 20300715090000Z 1001 v3_server ca.key ca.crt
    sign web "/C=US/ST=California/L=San Jose/O=Sample BMC Vendor/OU=Web/CN=bmc.example" \
        20200101000000Z 20550101000000Z 2002 v3_web
    SAN="DNS:redfish.bmc.example" sign redfish "/C=US/ST=California/L=San Jose/O=Sample BMC Vendor/OU=Redfish/CN=redfish.bmc.example" \
        20310101000000Z 20410101000000Z 3003 v3_server ca.key ca.crt

    cp ca.crt ca.key client.crt client.key server.crt server.key redfish.crt redfish.key "$out/"
    cat web.key web.crt >"$out/web.pem"      # lighttpd style: key first, then certificate
    chmod 644 "$out"/*
    cd "$here"
fi

# ---- README.md: the table is printed from the files themselves ----
row() {  # row FILE ROLE KEYFILE
    local f=$1 role=$2 key=$3 nb na cn
    nb=$(openssl x509 -in "$out/$f" -noout -startdate | cut -d= -f2)
    na=$(openssl x509 -in "$out/$f" -noout -enddate | cut -d= -f2)
    cn=$(openssl x509 -in "$out/$f" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
    # ASN.1 encoding of the two validity times, e.g. "UTCTime 160519094636Z".
    enc=$(openssl x509 -in "$out/$f" | openssl asn1parse | awk '/UTCTIME|GENERALIZEDTIME/ {
            t = ($0 ~ /UTCTIME/) ? "UTCTime" : "GeneralizedTime"; sub(/.*:/, ""); printf "%s%s %s", sep, t, $0; sep = " / " }')
    echo "| $f | $cn | $nb | $na | $enc | $role | $key |"
}
{
    echo "# Sample certificates and keys"
    echo
    echo "Made once by \`samples/make-certs.sh\` (committed; the keys are random, so rerunning with \`--force\` gives"
    echo "new keys). Everything else in samples/ and bench/ is rebuilt byte-for-byte from these files."
    echo "**Test material only: these private keys are public.**"
    echo
    echo "| file | subject CN | notBefore | notAfter | DER encoding (notBefore / notAfter) | role | key file |"
    echo "|---|---|---|---|---|---|---|"
    row ca.crt "sample CA: issues server.crt and redfish.crt" ca.key
    row client.crt "iKVM / stunnel client certificate, self-signed (like Supermicro's CN=IPMI); stunnel CAfile; also res/client.crt in the jar" client.key
    row server.crt "stunnel [ikvm] server certificate, issued by the sample CA; also res/server.crt in the jar" "server.key (PKCS#1 RSA PRIVATE KEY)"
    row web.pem "lighttpd ssl.pemfile, self-signed; notAfter is a GeneralizedTime (>= 2050)" "web.pem (key first, PKCS#8)"
    row redfish.crt "Redfish service certificate, NOT YET VALID until 2031, issued by the sample CA" "redfish.key (EC P-256, EC PRIVATE KEY)"
    echo
    echo "Details (\`openssl x509 -noout -dates -subject -issuer -serial\`):"
    echo
    echo '```'
    for f in ca.crt client.crt server.crt web.pem redfish.crt; do
        echo "== $f"
        openssl x509 -in "$out/$f" -noout -dates -subject -issuer -serial
    done
    echo '```'
    echo
    echo "Key/certificate pairs are checked by make-certs.sh (public keys compared)."
} >"$out/README.md"

# Each certificate must match its key.
check_pair() {
    local a b
    a=$(openssl x509 -in "$out/$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)
    b=$(openssl pkey -in "$out/$2" -pubout -outform DER | sha256sum)
    [[ "$a" == "$b" ]] || { echo "make-certs.sh: $1 does not match $2" >&2; exit 1; }
}
check_pair ca.crt ca.key
check_pair client.crt client.key
check_pair server.crt server.key
check_pair web.pem web.pem
check_pair redfish.crt redfish.key
openssl verify -attime 1700000000 -CAfile "$out/ca.crt" "$out/server.crt" >/dev/null
openssl verify -attime 2000000000 -CAfile "$out/ca.crt" "$out/redfish.crt" >/dev/null
echo "make-certs.sh: certificates in $out (keys match, chains verify); table in $out/README.md"
