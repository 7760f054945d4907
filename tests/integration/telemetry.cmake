# Telemetry (issue 6): the HTTP endpoint's routes and /healthz against a
# failing producer, a scrape by the real Prometheus server, and the shipped
# production config checked against the modules of this build.
rv_integration_test(telemetry_http /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/telemetry_http_test.py)
rv_integration_test(telemetry_prometheus /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/telemetry_prometheus_test.py)
rv_integration_test(production_config /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/production_config_test.py)
