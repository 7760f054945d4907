# ffmpeg-file producer: drives build/modules/ffmpeg-file.so through the real
# loader and host services; media generated at test time with `ffmpeg`.
pkg_check_modules(RV_TEST_FFMPEG_FILE_AV REQUIRED IMPORTED_TARGET libavformat libavcodec)
rv_unit_test(test_ffmpeg_file SOURCES test_ffmpeg_file.c
  LIBS rv_loader rv_core Threads::Threads PkgConfig::RV_TEST_FFMPEG_FILE_AV)
target_compile_definitions(test_ffmpeg_file PRIVATE RV_FFMPEG_FILE_SO="$<TARGET_FILE:ffmpeg-file>")
add_dependencies(test_ffmpeg_file ffmpeg-file)
set_tests_properties(unit.test_ffmpeg_file PROPERTIES TIMEOUT 900)
# Media correctness (issue 13): colour, orientation, stream choice, length.
rv_unit_test(test_ffmpeg_media SOURCES test_ffmpeg_media.c
  LIBS rv_loader rv_core Threads::Threads PkgConfig::RV_TEST_FFMPEG_FILE_AV m)
target_compile_definitions(test_ffmpeg_media PRIVATE RV_FFMPEG_FILE_SO="$<TARGET_FILE:ffmpeg-file>")
add_dependencies(test_ffmpeg_media ffmpeg-file)
set_tests_properties(unit.test_ffmpeg_media PROPERTIES TIMEOUT 900)
# Frame-rate conversion without decoding the pictures no tick shows (issue 14).
rv_unit_test(test_ffmpeg_cadence SOURCES test_ffmpeg_cadence.c
  LIBS rv_loader rv_core Threads::Threads PkgConfig::RV_TEST_FFMPEG_FILE_AV)
target_compile_definitions(test_ffmpeg_cadence PRIVATE RV_FFMPEG_FILE_SO="$<TARGET_FILE:ffmpeg-file>")
add_dependencies(test_ffmpeg_cadence ffmpeg-file)
set_tests_properties(unit.test_ffmpeg_cadence PROPERTIES TIMEOUT 900)
