"""Where and how the numbers are computed: device, precision, compilation, GPU slots, the
allocator, atomic writes, torch files read as data, timing."""
