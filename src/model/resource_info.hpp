// JobResourceInfo (seed table 6) is shared by app-v1's entities and app-v2's
// job_resource_info; its reader lives in app_v1.cpp. Private to src/model.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "jobwatch/model/app_v1.hpp"

namespace jobwatch::model::detail {

JobResourceInfo parse_job_resource_info(const boost::json::object& obj, std::string path,
                                        std::string& error);

}  // namespace jobwatch::model::detail
