# Key material: PEM, DER certificates and private keys, PKCS#12, Java keystores. Format: <type> <validator> <at> <magic...>
# (FORMATS.md 5.1 and 6).

# PEM encapsulation boundary (RFC 7468 section 2); the validator reads the label and requires a base64 body.
pem              pem              0   "-----BEGIN "

# DER X.509 Certificate ::= SEQUENCE with a long-form length: 30 82 LL LL covers 256..65535-byte certificates (nearly
# all), 30 81 LL tiny ones (128..255). The validator rejects unless the full structural test of FORMATS.md 6.3 passes.
der-certificate  der-x509         0   30 82
der-certificate  der-x509         0   30 81

# DER private keys, keyed on the version INTEGER right after the outer SEQUENCE header (so they do not share the
# 30 82 bucket): PKCS#1 RSAPrivateKey { INTEGER 0, INTEGER n, ... }, PKCS#8 PrivateKeyInfo { INTEGER 0,
# AlgorithmIdentifier, ... }, RFC 5915 ECPrivateKey { INTEGER 1, OCTET STRING, ... }. `at` = outer header size.
der-private-key  der-private-key  4   02 01 00 02     # PKCS#1, 30 82 LL LL
der-private-key  der-private-key  3   02 01 00 02     # PKCS#1, 30 81 LL
der-private-key  der-private-key  4   02 01 00 30     # PKCS#8, 30 82 LL LL
der-private-key  der-private-key  3   02 01 00 30     # PKCS#8, 30 81 LL
der-private-key  der-private-key  2   02 01 01 04     # SEC1 EC, 30 LL (P-256: 30 77)
der-private-key  der-private-key  3   02 01 01 04     # SEC1 EC, 30 81 LL (P-384/P-521)

# PKCS#12 PFX ::= SEQUENCE { INTEGER 3, ContentInfo SEQUENCE, ... }: the version and the authSafe tag follow the
# outer header, whose size depends on the length form: 30 80 (BER indefinite, NSS) or 30 LL -> 2, 30 81 LL -> 3,
# 30 82 LL LL -> 4, 30 83 LL LL LL -> 5. (The outer 30 82 itself is the der-x509 magic; this keeps them apart.)
pkcs12           pkcs12           2   02 01 03 30
pkcs12           pkcs12           3   02 01 03 30
pkcs12           pkcs12           4   02 01 03 30
pkcs12           pkcs12           5   02 01 03 30

# Java keystores (big-endian DataOutputStream): magic u32 0xFEEDFEED (JKS) / 0xCECECECE (JCEKS), then version 1|2.
jks              jks              0   fe ed fe ed
jceks            jks              0   ce ce ce ce
