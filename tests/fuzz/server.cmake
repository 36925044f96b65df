# Server fuzz targets (included by CMakeLists.txt when tidewire_server_core exists): the whole message handler
# (with the services) and the JWT verifier. The server core is instrumented like the other libraries.
target_compile_options(tidewire_server_core PRIVATE -fsanitize=fuzzer-no-link,address,undefined -g)

tidewire_fuzz_target(fuzz_message_handler message_handler_fuzz.cpp tidewire_server_core)
tidewire_fuzz_target(fuzz_jwt_verifier jwt_verifier_fuzz.cpp tidewire_server_core)
