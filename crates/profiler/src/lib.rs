//! The decnet-profiler daemon library.
