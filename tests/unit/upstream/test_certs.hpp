// Throwaway certificates for TLS tests, made with the openssl CLI in a
// temporary directory: a CA, a second (untrusted) CA, and server
// certificates for localhost/127.0.0.1, for other.example, and for
// localhost but signed by the untrusted CA.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace jobwatch::testing {

struct TestCerts {
  std::filesystem::path dir;
  std::string file(const std::string& name) const { return (dir / name).string(); }
  std::string ca() const { return file("ca.pem"); }
  std::string other_ca() const { return file("otherca.pem"); }
  // server, wronghost, untrusted: NAME.pem (certificate) and NAME.key
  std::string cert(const std::string& name) const { return file(name + ".pem"); }
  std::string key(const std::string& name) const { return file(name + ".key"); }
  void remove() const {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// nullopt when the openssl CLI is missing or fails.
inline std::optional<TestCerts> make_test_certs() {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) return std::nullopt;
  std::string pattern = (std::filesystem::temp_directory_path() / "jobwatch-certs-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return std::nullopt;
  TestCerts certs{pattern};
  std::ofstream(certs.file("gen.sh")) << R"SH(set -e
cat > ca.cnf <<'X'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = jobwatch test CA
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
X
mkca() {
  openssl req -x509 -config ca.cnf -extensions v3_ca -newkey ec \
    -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.pem" -days 2
}
issue() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1.key" -out "$1.csr" -subj "/CN=$1"
  printf 'basicConstraints = CA:FALSE\nkeyUsage = digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = %s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial \
    -out "$1.pem" -days 2 -extfile "$1.ext"
}
mkca ca
mkca otherca
issue server ca "DNS:localhost,IP:127.0.0.1"
issue wronghost ca "DNS:other.example"
issue untrusted otherca "DNS:localhost,IP:127.0.0.1"
)SH";
  std::string command = "cd '" + certs.dir.string() + "' && sh gen.sh >gen.log 2>&1";
  if (std::system(command.c_str()) != 0) {
    certs.remove();
    return std::nullopt;
  }
  return certs;
}

}  // namespace jobwatch::testing
