# Embed a text file as a C string at build time (cmake -P script mode):
#   cmake -DINPUT=<file> -DOUTPUT=<file.c> -DSYMBOL=<name> -P embed.cmake
# writes `const char SYMBOL[]` (NUL-terminated) and `const size_t SYMBOL_len`.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR byte_len "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x[0-9a-f][0-9a-f],){16}" "\\0\n  " bytes "${bytes}")
get_filename_component(name "${INPUT}" NAME)
file(WRITE "${OUTPUT}"
"/* Generated from ${name} by host/telemetry/embed.cmake: do not edit. */\n"
"#include <stddef.h>\n"
"extern const char ${SYMBOL}[];\n"
"extern const size_t ${SYMBOL}_len;\n"
"const char ${SYMBOL}[] = {\n  ${bytes}0x00};\n"
"const size_t ${SYMBOL}_len = ${byte_len};\n")
