#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| credhook_fuzz::hook_output(data));
