#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| credhook_fuzz::replies(data));
