#include "cli.hpp"

#include <charconv>

namespace jobwatch::sim {

namespace asio = boost::asio;

const char* const usage_text =
    "Usage: jobwatch-sim [OPTIONS]\n"
    "Simulates the Huawei Cloud Workspace job APIs, with an admin API under /admin/ on\n"
    "the same port:\n"
    "  app-v1      GET /v1/{project_id}/job/{job_id}             {\"job\": JobDetail}\n"
    "  app-v2      GET /v2/{project_id}/job/{job_id}             ShowJobDetail\n"
    "  desktop-v2  GET /v2/{project_id}/workspace-jobs/{job_id}  Workspace ShowJob\n"
    "A job answers on its own API's path only (elsewhere 404, counted as wrong_api).\n"
    "\n"
    "  --listen HOST:PORT    address to listen on (default 127.0.0.1:18080; port 0 = any)\n"
    "  --port-file PATH      write the bound port to PATH (atomically) once listening\n"
    "  --token TOKEN         require X-Auth-Token: TOKEN on API requests (else 401)\n"
    "  --token-file FILE     the same, the token read from FILE\n"
    "  --tls-cert FILE --tls-key FILE\n"
    "                        serve HTTPS with this PEM certificate (chain) and key\n"
    "  --aksk-access-key AK --aksk-secret-key-file F\n"
    "                        require SDK-HMAC-SHA256 signatures with this AK/SK (else\n"
    "                        401 APIGW.0301; X-Sdk-Date over 15 min off: APIGW.0303)\n"
    "  --clock-skew-s N      the gateway's clock for signatures is N s (may be < 0) off\n"
    "  --iam-user U --iam-domain D --iam-password-file F\n"
    "                        fake IAM: POST /v3/auth/tokens issues tokens for these\n"
    "                        credentials and the API requires a live one\n"
    "  --iam-token-ttl-s S   lifetime of issued tokens (default 3600)\n"
    "  --rate-limit N        at most N job API requests/s (burst N); beyond it 429\n"
    "                        APIGW.0308 with Retry-After: 1\n"
    "  --seed N              seed for IDs, random jobs and faults (default: random)\n"
    "  --scenario demo       create the demo jobs at start and print their IDs on stdout\n"
    "  --random-jobs N       create N random jobs at start\n"
    "  --idle-timeout S      close keep-alive connections idle for S seconds (default 60)\n"
    "  --quiet               no log lines (admin actions, startup)\n"
    "  --verbose             also log one line per request\n"
    "  --help, --version\n"
    "\n"
    "Admin API: POST /admin/jobs, GET /admin/jobs[/{id}], POST /admin/random,\n"
    "POST|GET|DELETE /admin/faults, GET|DELETE /admin/stats, GET /admin/requests,\n"
    "POST|GET /admin/clock, POST /admin/reset, POST /admin/iam/expire-all.\n";

const char* const admin_text =
    "\n"
    "POST /admin/jobs takes one job spec or {\"jobs\": [spec, ...]}; every field optional:\n"
    "  job_id, project_id       IDs (default: generated / any project accepted)\n"
    "  api                      \"app-v1\" (default), \"app-v2\" or \"desktop-v2\"\n"
    "  job_type                 app-v1: integer (default 1); v2: string (default\n"
    "                           CREATE_SERVER / createDesktops)\n"
    "  duration_s (10), initializing_s (1), start_delay_s (0), outcome (\"success\" or\n"
    "  \"failure\"), expected_end_offset_s (number or null; app-v1 only), not_found_s (0),\n"
    "  ghost (false)            derived statuses: 3/2/1|0 (app-v1), WAITING/RUNNING/\n"
    "                           SUCCESS|FAILED (v2; desktop subjobs start INIT)\n"
    "  timeline                 [{\"at_s\": seconds from creation, \"status\": value}, ...]:\n"
    "                           the last entry with at_s <= now decides; before the first,\n"
    "                           the API's initial status. Strings for v2, integers for\n"
    "                           app-v1, any value (undocumented ones too); begin_time once\n"
    "                           it left WAITING/INIT/3, end_time once terminal (SUCCESS,\n"
    "                           COMPLETE, FAILED, FAIL, ABNORMAL / 1, 0). Decides the outcome;\n"
    "                           unscripted subjobs run within its begin and end.\n"
    "  job_error_code, fail_reason   desktop-v2 job error texts (sent once it failed)\n"
    "  subjobs                  N, or [subjob spec, ...]: duration_s, outcome, timeline,\n"
    "                           job_type (CREATE_SERVER / createDesktop / 2), error_code,\n"
    "                           error_message (app-v1, app-v2), fail_reason, message\n"
    "                           (desktop-v2); error texts have defaults (WKS.00010001 ...)\n"
    "The reply's \"jobs\" (and GET /admin/jobs' \"expected\") describe each job: outcome\n"
    "(success, failure, ghost, or pending for a timeline that never ends), api, job_type,\n"
    "upstream_status (the last status the API sends), the final error fields, duration_s,\n"
    "and per subjob job_id, outcome, job_type, upstream_status and error fields.\n"
    "POST /admin/random: {\"count\", \"seed\", \"min_duration_s\", \"max_duration_s\",\n"
    "\"ghost_fraction\", \"late_404_fraction\", \"project_id\", \"api\": name or [names]\n"
    "(round-robin)}.\n"
    "GET /admin/stats: requests_total, by_status, requests_by_api {app-v1, app-v2,\n"
    "desktop-v2}, wrong_api_requests, wrong_api_by_job {job_id: n}, faults_*, jobs, ...\n"
    "GET /admin/requests: {job_id: requests}; ?detail=1: {job_id: {api, requests,\n"
    "wrong_api_requests}}.\n"
    "POST /admin/clock {\"advance_s\": S} moves the jobs' clock S s ahead of the wall\n"
    "clock; every job API answer's Date header is in the jobs' clock, so a client sees\n"
    "an API clock S s ahead of its own.\n";

namespace {

template <typename T>
std::optional<T> parse_uint(const std::string& s) {
  T value{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<asio::ip::tcp::endpoint> parse_listen(const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  const auto port_number = parse_uint<unsigned short>(port);
  if (!port_number) return std::nullopt;
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  return asio::ip::tcp::endpoint(address, *port_number);
}

std::variant<CliOptions, CliError> parse_cli(const std::vector<std::string>& args) {
  CliOptions o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::optional<std::string> inline_value;
    if (arg.starts_with("--") && arg.find('=') != std::string::npos) {
      inline_value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
    }
    auto value = [&]() -> std::optional<std::string> {
      if (inline_value) return inline_value;
      if (i + 1 < args.size()) return args[++i];
      return std::nullopt;
    };
    auto missing = [&] { return CliError{arg + ": missing value"}; };

    if (arg == "--help" || arg == "-h") {
      o.help = true;
    } else if (arg == "--version") {
      o.version = true;
    } else if (arg == "--quiet" || arg == "-q") {
      o.quiet = true;
    } else if (arg == "--verbose" || arg == "-v") {
      o.verbose = true;
    } else if (arg == "--listen") {
      auto v = value();
      if (!v) return missing();
      auto ep = parse_listen(*v);
      if (!ep) return CliError{"--listen: expected HOST:PORT, got \"" + *v + "\""};
      o.listen = *ep;
    } else if (arg == "--port-file" || arg == "--token" || arg == "--token-file") {
      auto v = value();
      if (!v || v->empty()) return missing();
      (arg == "--port-file" ? o.port_file : arg == "--token" ? o.token : o.token_file) = *v;
    } else if (arg == "--tls-cert" || arg == "--tls-key") {
      auto v = value();
      if (!v || v->empty()) return missing();
      (arg == "--tls-cert" ? o.tls_cert : o.tls_key) = *v;
    } else if (arg == "--iam-user" || arg == "--iam-domain" || arg == "--iam-password-file") {
      auto v = value();
      if (!v || v->empty()) return missing();
      (arg == "--iam-user"     ? o.iam_user
       : arg == "--iam-domain" ? o.iam_domain
                               : o.iam_password_file) = *v;
    } else if (arg == "--iam-token-ttl-s") {
      auto v = value();
      if (!v) return missing();
      auto n = parse_uint<std::uint64_t>(*v);
      if (!n || *n == 0) return CliError{arg + ": expected a positive integer, got \"" + *v + "\""};
      o.iam_token_ttl_s = *n;
    } else if (arg == "--rate-limit") {
      auto v = value();
      if (!v) return missing();
      double n = 0;
      auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
      if (ec != std::errc{} || ptr != v->data() + v->size() || !(n > 0) || n > 1e9)
        return CliError{"--rate-limit: expected a positive number, got \"" + *v + "\""};
      o.rate_limit = n;
    } else if (arg == "--aksk-access-key" || arg == "--aksk-secret-key-file") {
      auto v = value();
      if (!v || v->empty()) return missing();
      (arg == "--aksk-access-key" ? o.aksk_access_key : o.aksk_secret_key_file) = *v;
    } else if (arg == "--clock-skew-s") {
      auto v = value();
      if (!v) return missing();
      std::int64_t n = 0;
      auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
      if (v->empty() || ec != std::errc{} || ptr != v->data() + v->size())
        return CliError{"--clock-skew-s: expected an integer, got \"" + *v + "\""};
      o.clock_skew_s = n;
    } else if (arg == "--seed" || arg == "--random-jobs" || arg == "--idle-timeout") {
      auto v = value();
      if (!v) return missing();
      auto n = parse_uint<std::uint64_t>(*v);
      if (!n) return CliError{arg + ": expected a non-negative integer, got \"" + *v + "\""};
      if (arg == "--seed") o.seed = *n;
      if (arg == "--random-jobs") o.random_jobs = *n;
      if (arg == "--idle-timeout") {
        if (*n == 0) return CliError{"--idle-timeout: must be at least 1"};
        o.idle_timeout = std::chrono::seconds(*n);
      }
    } else if (arg == "--scenario") {
      auto v = value();
      if (!v) return missing();
      if (*v != "demo")
        return CliError{"--scenario: unknown scenario \"" + *v + "\" (known: demo)"};
      o.demo = true;
    } else {
      return CliError{"unknown argument \"" + arg + "\""};
    }
  }
  if (o.token && o.token_file) return CliError{"--token and --token-file are exclusive"};
  if (!o.tls_cert != !o.tls_key) return CliError{"--tls-cert and --tls-key go together"};
  if (!o.aksk_access_key != !o.aksk_secret_key_file)
    return CliError{"--aksk-access-key and --aksk-secret-key-file go together"};
  const int iam_given = !!o.iam_user + !!o.iam_domain + !!o.iam_password_file;
  if (iam_given != 0 && iam_given != 3)
    return CliError{"--iam-user, --iam-domain and --iam-password-file go together"};
  return o;
}

}  // namespace jobwatch::sim
