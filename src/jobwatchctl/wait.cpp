// `jobwatchctl wait`: Wait with "more", live progress on a terminal, plain
// lines when piped, and the exit code from the outcomes.
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "client.hpp"
#include "jobwatch/config/duration.hpp"
#include "jobwatch/control/validation.hpp"
#include "jobwatch/model/time.hpp"
#include "jobwatch/watch/basics.hpp"
#include "output.hpp"

namespace jobwatch::ctl {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Row {
  std::string job_id;
  std::string project_id;
  std::string label;  // job_id made safe for the terminal
  std::string status = "pending";
  std::string subjobs = "0/0";
  std::string progress;           // "42%" (desktop-v2 only), empty when not reported
  std::string job_type;           // escaped; empty when unknown or not informative
  std::string expected_end_time;  // RFC 3339, empty when unknown
  // The timing model's median end (SPEC §7), shown when the API gives no
  // expected end; RFC 3339, empty when there is no prediction.
  std::string predicted_end;
  std::string outcome;  // set by the final reply
  std::string detail;   // why it failed / was abandoned
  std::string printed;  // what the last plain line said
  std::optional<Clock::duration> ended_after;
};

std::string event_detail(const json::object& result, const std::string& outcome) {
  const auto* e = result.if_contains("event");
  if (e == nullptr || !e->is_object()) return {};
  const auto* d = e->get_object().if_contains("data");
  if (d == nullptr || !d->is_object()) return {};
  const auto& data = d->get_object();
  std::string detail;
  if (outcome == "abandoned") detail = field(data, "reason", "");
  if (data.contains("error_code")) {
    detail += (detail.empty() ? "" : ", ") + field(data, "error_code") + ": " +
              field(data, "error_msg", "");
  }
  if (outcome == "failed" && (data.contains("execute_code") || data.contains("execute_message"))) {
    detail = field(data, "execute_code", "") + ": " + field(data, "execute_message", "");
  }
  return detail;
}

std::size_t terminal_columns() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

// One line per job. On a terminal the block is redrawn in place; otherwise
// a plain line is printed whenever a job's line changes, and a final line
// per job at the end.
class View {
 public:
  View(std::vector<Row> rows, bool tty, bool colour)
      : rows_(std::move(rows)), tty_(tty), colour_(colour), start_(Clock::now()) {
    for (auto& row : rows_) row.label = control::escape_for_display(row.job_id, 200);
  }

  Row* find(const std::string& job_id, const std::string& project_id) {
    for (auto& row : rows_) {
      if (row.job_id == job_id && (row.project_id.empty() || row.project_id == project_id)) {
        if (row.project_id.empty()) row.project_id = project_id;
        return &row;
      }
    }
    return nullptr;
  }

  // Takes in one WatchInfo (a progress entry).
  void update(const json::object& info) {
    Row* row = find(raw(info, "job_id"), raw(info, "project_id"));
    if (row == nullptr) return;
    row->status = field(info, "status");
    row->subjobs = number_field(info, "subjobs_done") + "/" + number_field(info, "subjobs_total");
    row->progress = info.contains("progress") ? number_field(info, "progress") + "%" : "";
    // app-v1's job_type is fixed to 1 for every job (seed table 4): it tells
    // nothing, so only the v2 APIs' names ("CREATE_SERVER") are shown.
    row->job_type = raw(info, "api") == "app-v1" ? "" : field(info, "job_type", "");
    row->expected_end_time = raw(info, "expected_end_time");
    row->predicted_end.clear();
    if (const auto* p = info.if_contains("predicted_end"); p && p->is_object())
      row->predicted_end = raw(p->get_object(), "p50");
    const auto status = watch::status_from_name(row->status);
    const bool ended = status && watch::is_finished(*status);
    if (ended && !row->ended_after) row->ended_after = Clock::now() - start_;
  }

  void progress(const json::array& infos) {
    for (const auto& i : infos) {
      if (i.is_object()) update(i.get_object());
    }
    if (tty_) {
      redraw();
      return;
    }
    for (auto& row : rows_) {
      std::string line = row.label + " " + row.status + " subjobs " + row.subjobs;
      if (!row.progress.empty()) line += " progress " + row.progress;
      if (!row.job_type.empty()) line += " job_type " + row.job_type;
      if (!row.expected_end_time.empty())
        line += " expected end " + control::escape_for_display(row.expected_end_time);
      else if (!row.predicted_end.empty())
        line += " predicted end " + control::escape_for_display(row.predicted_end);
      if (line != row.printed) {
        std::printf("%s\n", line.c_str());
        row.printed = line;
      }
    }
    std::fflush(stdout);
  }

  void results(const json::array& results) {
    for (const auto& r : results) {
      if (!r.is_object()) continue;
      const auto& result = r.get_object();
      Row* row = find(raw(result, "job_id"), raw(result, "project_id"));
      if (row == nullptr) continue;
      row->outcome = field(result, "outcome");
      row->detail = event_detail(result, row->outcome);
      if (!row->ended_after) row->ended_after = Clock::now() - start_;
    }
  }

  void print_final() {
    if (tty_) {
      redraw();
      return;
    }
    for (const auto& row : rows_) {
      std::string line = row.label + " " + (row.outcome.empty() ? row.status : row.outcome);
      if (row.outcome == "timeout") line += " (still " + row.status + ")";
      line += " subjobs " + row.subjobs;
      if (!row.progress.empty()) line += " progress " + row.progress;
      if (!row.job_type.empty()) line += " job_type " + row.job_type;
      if (!row.detail.empty()) line += ": " + row.detail;
      std::printf("%s\n", line.c_str());
    }
    std::fflush(stdout);
  }

  // Rewrites our block of lines in place (cursor up, clear line).
  void redraw() {
    if (!tty_) return;
    std::string out;
    if (drawn_ > 0) out += "\x1b[" + std::to_string(drawn_) + "A";
    std::size_t width = 0;
    for (const auto& row : rows_) width = std::max(width, display_width(row.label));
    const std::size_t columns = terminal_columns();
    for (const auto& row : rows_) out += "\r\x1b[2K" + line(row, width, columns) + "\n";
    drawn_ = rows_.size();
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
  }

 private:
  static std::string raw(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  }

  // What follows the status column, most important first.
  struct Part {
    std::string text;
    bool optional = false;  // left out when it does not fit; later parts may still
  };

  // "JOB  STATUS  subjobs 2/5  progress 42%  elapsed 40s  expected end in
  // 1m20s  createDesktops", cut to the terminal's width: a row that wrapped
  // would break the cursor-up redraw.
  std::string line(const Row& row, std::size_t width, std::size_t columns) const {
    const std::string status = row.outcome.empty() ? row.status : row.outcome;
    const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(
        row.ended_after.value_or(Clock::now() - start_));
    std::vector<Part> parts = {{"subjobs " + row.subjobs}};
    if (!row.progress.empty()) parts.push_back({"progress " + row.progress});
    parts.push_back({"elapsed " + short_duration(elapsed)});
    if (!row.expected_end_time.empty() && row.outcome.empty() && !row.ended_after) {
      parts.push_back({"expected end " + relative_time(row.expected_end_time)});
    } else if (!row.predicted_end.empty() && row.outcome.empty() && !row.ended_after) {
      parts.push_back({"predicted end " + relative_time(row.predicted_end)});
    }
    // The job type is static and least urgent: it gives way to the failure
    // detail that comes after it.
    if (!row.job_type.empty()) parts.push_back({row.job_type, true});
    if (!row.detail.empty()) parts.push_back({row.detail});

    // The last column stays empty: some terminals wrap as soon as it is written.
    const std::size_t limit = columns > 1 ? columns - 1 : 1;
    // On a narrow terminal long IDs give way (cut with "…") so that the
    // status and the subjobs still show.
    constexpr std::size_t reserve = 2 + 12 + 13;  // status column, "subjobs 10/10"
    const std::size_t id_width =
        std::min(width, std::max<std::size_t>(limit, reserve + 8) - reserve);
    std::string out;
    std::size_t used = 0;
    auto add = [&](std::string_view text, bool coloured) {
      const std::string shown = fit_width(text, limit - used);
      out += coloured ? colour_status(shown, colour_) : shown;
      used += display_width(shown);
    };
    auto pad = [&](std::size_t n) {
      n = std::min(n, limit - used);
      out.append(n, ' ');
      used += n;
    };
    const std::string label = fit_width(row.label, id_width);
    add(label, false);
    pad(id_width - display_width(label) + 2);
    add(status, true);
    pad(status.size() < 12 ? 12 - status.size() : 1);
    bool first = true;
    for (const Part& p : parts) {
      const std::string part = (first ? "" : "  ") + p.text;
      if (used + display_width(part) > limit) {
        if (p.optional) continue;
        break;
      }
      add(part, false);
      first = false;
    }
    return out;
  }

  std::vector<Row> rows_;
  bool tty_;
  bool colour_;
  Clock::time_point start_;
  std::size_t drawn_ = 0;
};

int exit_for(const json::array& results) {
  bool failed = false, abandoned = false, timed_out = false;
  for (const auto& r : results) {
    const auto* outcome = r.is_object() ? r.get_object().if_contains("outcome") : nullptr;
    if (outcome == nullptr || !outcome->is_string()) continue;
    failed |= outcome->get_string() == "failed";
    abandoned |= outcome->get_string() == "abandoned";
    timed_out |= outcome->get_string() == "timeout";
  }
  if (timed_out) return exit_code::timeout;
  if (abandoned) return exit_code::abandoned;
  if (failed) return exit_code::job_failed;
  return exit_code::ok;
}

}  // namespace

int run_wait(const Globals& globals, const ParsedArgs& args) {
  const Command& self = *std::find_if(commands().begin(), commands().end(),
                                      [](const Command& c) { return c.name == "wait"; });
  if (args.positional.empty()) return usage_error("wait needs at least one JOB_ID", &self);
  std::vector<std::string> ids;
  for (const auto& id : args.positional) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  if (auto problem = api_problem(args)) return usage_error(*problem, &self);
  const std::string project = args.value("--project");
  json::object params{{"jobs", job_refs(ids, project, args.value("--api"))}};
  if (args.values.contains("--timeout")) {
    const auto timeout = config::parse_duration(args.value("--timeout"));
    if (!timeout || timeout->count() <= 0) {
      return usage_error("--timeout: not a positive duration (500ms, 30s, 5m, 2h, 1d)", &self);
    }
    params["timeout_s"] = static_cast<double>(timeout->count()) / 1000.0;
  }

  auto opened = open_client(globals);
  if (auto* code = std::get_if<int>(&opened)) return *code;
  auto& client = std::get<Client>(opened);
  if (auto failure =
          client.send(control::Call{"io.jobwatch.Wait", std::move(params), true, false})) {
    return report(*failure);
  }

  const bool tty = !globals.json && terminal_capable(stdout);
  std::vector<Row> rows;
  for (const auto& id : ids) rows.push_back(Row{.job_id = id, .project_id = project});
  View view(std::move(rows), tty, tty && colour_wanted(stdout));
  view.redraw();
  for (;;) {
    auto received = client.receive(tty ? 1000 : -1);
    if (std::holds_alternative<Client::Timeout>(received)) {
      view.redraw();  // the elapsed time moves on
      continue;
    }
    if (auto* failure = std::get_if<Failure>(&received)) return report(*failure);
    auto& reply = std::get<control::Reply>(received);
    if (!reply.error.empty()) return report(describe_error(reply));
    if (const auto* p = reply.parameters.if_contains("progress");
        p && p->is_array() && !globals.json) {
      view.progress(p->get_array());
    }
    if (reply.continues) continue;
    const auto* r = reply.parameters.if_contains("results");
    const json::array results = r && r->is_array() ? r->get_array() : json::array{};
    if (globals.json) {
      print_json(reply.parameters);
    } else {
      view.results(results);
      view.print_final();
    }
    return exit_for(results);
  }
}

}  // namespace jobwatch::ctl
