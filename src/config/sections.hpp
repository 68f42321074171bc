// The readers for each top-level section of the config file. Each fills its
// part of Config from the YAML and reports problems; defaults stay for keys
// that are absent or invalid.
#pragma once

#include "jobwatch/config/config.hpp"
#include "yaml_map.hpp"

namespace jobwatch::config::detail {

void read_api(const MapReader& root, ApiConfig& api);
void read_poll(const MapReader& root, PollConfig& poll);
void read_control(const MapReader& root, ControlConfig& control);
void read_state(const MapReader& root, StateConfig& state);
void read_sinks(const MapReader& root, std::vector<SinkConfig>& sinks);
void read_log(const MapReader& root, LogConfig& log);
void read_metrics(const MapReader& root, MetricsConfig& metrics);

}  // namespace jobwatch::config::detail
