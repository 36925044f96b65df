// The package's wasm modules (bindings/CMakeLists.txt builds them into build/wasm/module, scripts/build.sh
// copies them into web/dist): each is found beside the JS that loads it, so every script that ships or serves
// web/dist copies all of them. One list, so a new module is added in one place.
export const WASM_FILES = ['tidewire_module.wasm', 'tidewire_state.wasm'];
