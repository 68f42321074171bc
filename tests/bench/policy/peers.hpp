// Other tools' waiters, modelled on their documented behaviour, replayed on
// the same trace. Each is a sequence of gaps from the job's submission; a
// peer is not rate-limited (each runs its own loop per job).
#pragma once

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "trace.hpp"

namespace jobwatch::bench {

// Poll times (trace seconds) for one job until one sees its end.
struct PeerRun {
  std::size_t calls = 0;
  double detected_at = 0;
  double longest_gap_s = 0;  // between polls (or from submission to the first)
};

class Peer {
 public:
  virtual ~Peer() = default;
  virtual std::string name() const = 0;
  virtual PeerRun run(const TraceJob& job, std::mt19937_64& rng) const = 0;
};

struct PeerSettings {
  double target_delay_s = 10;
};

// fixed interval at target_delay; Terraform StateChangeConf with the
// huaweicloud provider's workspace settings and with its defaults; the
// Smithy waiter (AWS SDKs); Azure's 30 s poller; the ETA window.
std::vector<std::unique_ptr<Peer>> standard_peers(const PeerSettings& settings);

}  // namespace jobwatch::bench
