# Write OUT with `#define PLAYOUT_API_VERSION "x.y.z"`, read from the
# (playout_api_version) file option, field 50000, of retrovue/playout.proto.
# protoc-c does not emit option values, so protoc decodes its own descriptor.
# Usage: cmake -DPROTOC=.. -DPROTO_DIR=.. -DPROTO_INCLUDE=.. -DOUT=.. -P api_version.cmake
execute_process(
  COMMAND ${PROTOC} -I${PROTO_DIR} -I${PROTO_INCLUDE} --descriptor_set_out=/dev/stdout
          retrovue/playout.proto
  COMMAND ${PROTOC} -I${PROTO_INCLUDE} --decode=google.protobuf.FileDescriptorSet
          google/protobuf/descriptor.proto
  OUTPUT_VARIABLE decoded
  RESULT_VARIABLE rc
  ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "decoding playout.proto's descriptor failed: ${err}")
endif()
# The option value appears as an unknown field of FileOptions: `50000: "1.0.0"`.
string(REGEX MATCH "\n *50000: \"([0-9A-Za-z.+-]+)\"" m "${decoded}")
if(NOT CMAKE_MATCH_1)
  message(FATAL_ERROR "retrovue/playout.proto: no (playout_api_version) file option (field 50000)")
endif()
set(text "/* Generated from proto/retrovue/playout.proto by proto/api_version.cmake. */\n")
string(APPEND text "#ifndef RV_PLAYOUT_API_VERSION_H\n#define RV_PLAYOUT_API_VERSION_H\n")
string(APPEND text "#define PLAYOUT_API_VERSION \"${CMAKE_MATCH_1}\"\n#endif\n")
file(WRITE ${OUT}.tmp "${text}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
