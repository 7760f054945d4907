# The command line, broken modules in the module folder, signals (issue 2).
rv_integration_test(cli /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cli_test.py)
