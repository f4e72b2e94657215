//! Criterion benchmarks for talos live in this package's `[[bench]]` targets; see
//! `RESULTS.md` beside this file for the figures and the machine they came from.
