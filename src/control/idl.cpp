// The varlink IDL texts returned by org.varlink.service.GetInterfaceDescription.
#include "jobwatch/control/service.hpp"

namespace jobwatch::control {

namespace {

constexpr const char* jobwatch_idl =
    R"IDL(# jobwatch watches Huawei Cloud Workspace jobs (app-v1, app-v2, desktop-v2) until
# each job and subjob is terminal, and delivers every terminal transition to
# the configured sinks (log, file, webhook).
interface io.jobwatch

# A job to act on. project_id defaults to the daemon's api.project_id. api is
# the job API it lives in ("app-v1", "app-v2" or "desktop-v2"): by default
# api.default_api for a new watch and the watch's own for one that exists;
# naming another than the watch's is InvalidParameter api.
type JobRef (
  job_id: string,
  project_id: ?string,
  api: ?string
)

# One watch. Times are RFC 3339 UTC; reason says why an abandoned watch was
# given up; created is set in Watch replies only (whether that call created
# the watch).
type WatchInfo (
  job_id: string,
  project_id: string,
  api: string,
  job_type: ?string,
  labels: [string]string,
  status: (pending, initializing, handling, succeeded, failed, abandoned),
  subjobs_total: int,
  subjobs_done: int,
  progress: ?int,
  polls: int,
  last_poll_at: ?string,
  next_poll_at: ?string,
  expected_end_time: ?string,
  predicted_end: ?(p10: string, p50: string, p90: string),
  last_error: ?string,
  reason: ?(not_found, rejected, deadline),
  created: ?bool
)

type Quantiles (p10: float, p50: float, p90: float)

type TimingModel (
  api: string,
  project_id: string,
  job_type: string,
  jobs: int,
  duration_s: Quantiles,
  estimate_error: ?Quantiles,
  window: ?(from_s: float, to_s: float)
)

# How a waited-for job ended; event is the one that ended its watch
# (job.succeeded, job.failed, watch.abandoned), absent for a timeout.
type WaitResult (
  job_id: string,
  project_id: string,
  outcome: (succeeded, failed, abandoned, timeout),
  event: ?object
)

# Starts watching; a job already watched (or finished within retention) is
# returned with created: false and nothing changes. IDs are 1-64 characters
# of A-Z a-z 0-9 - _; at most 32 labels, keys [A-Za-z0-9._-]{1,63}, values
# up to 256 bytes.
method Watch(jobs: []JobRef, labels: ?[string]string, deadline_s: ?float) -> (watches: []WatchInfo)

# Stops watching without emitting an event. Only root, the daemon's user or
# the submitter may cancel.
method Cancel(jobs: []JobRef) -> (cancelled: []JobRef)

method List() -> (watches: []WatchInfo)

# One watch and the last job object received (absent before the first answer).
method Show(job_id: string, project_id: ?string, api: ?string) -> (watch: WatchInfo, job: ?object)

# Watches the jobs not yet watched, then waits until every one has ended.
# With "more": progress replies (at most one per 200 ms) until the final one,
# which carries results. Jobs still running after timeout_s get "timeout".
method Wait(jobs: []JobRef, timeout_s: ?float) -> (progress: ?[]WatchInfo, results: ?[]WaitResult)

# Every event as it is emitted, one per reply, until the client goes away.
# Needs "more".
method Follow() -> (event: object)

# Counters grouped by component (engine, sinks, store, control, ...).
method Stats() -> (control: object, engine: ?object, sinks: ?object, store: ?object)

# What the daemon has learned of how long jobs take (SPEC §7), one entry per
# (api, project_id, job_type): jobs seen end, their duration quantiles in
# seconds, where the end fell against the API's estimate (end / estimate,
# where one was given) and the ages (s since begin_time) polled at
# poll.target_delay once enough jobs are known. With trace: true, also the
# jobs seen to end that are still kept (state.retention), one object each in
# the replay trace format of docs/TRACE-FORMAT.md: project_id, api,
# job_type, submitted_at, begin_at, expected_end_at (or null), end_at,
# outcome (succeeded or failed) and subjobs ([{end_at, outcome}], when any
# ended), times in seconds from the earliest submission or begin among them,
# in the order of submission.
method Timing(trace: ?bool) -> (models: []TimingModel, jobs: ?[]object)

error InvalidJobId (job_id: string, reason: string)
error NotWatched (job_id: string, project_id: string)
error LimitReached (reason: string)
error ShuttingDown ()

# The state store could not record a new watch; nothing was created.
error Unavailable (reason: string)
error PermissionDenied (job_id: string, project_id: string)
)IDL";

constexpr const char* service_idl =
    R"IDL(# The Varlink Service Interface is provided by every varlink service. It
# describes the service and the interfaces it implements.
interface org.varlink.service

# Get a list of all the interfaces a service provides and information
# about the implementation.
method GetInfo() -> (
  vendor: string,
  product: string,
  version: string,
  url: string,
  interfaces: []string
)

# Get the description of an interface that is implemented by this service.
method GetInterfaceDescription(interface: string) -> (description: string)

# The requested interface was not found.
error InterfaceNotFound (interface: string)

# The requested method was not found
error MethodNotFound (method: string)

# The interface defines the requested method, but the service does not
# implement it.
error MethodNotImplemented (method: string)

# One of the passed parameters is invalid.
error InvalidParameter (parameter: string)

# Client is denied access
error PermissionDenied ()

# Method is expected to be called with 'more' set to true, but wasn't
error ExpectedMore ()
)IDL";

}  // namespace

const char* interface_description(std::string_view interface_name) {
  if (interface_name == "io.jobwatch") return jobwatch_idl;
  if (interface_name == "org.varlink.service") return service_idl;
  return nullptr;
}

}  // namespace jobwatch::control
