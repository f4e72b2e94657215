//! THIS FILE WAS AUTO-GENERATED USING THE SUBSTRATE BENCHMARK CLI VERSION 64.0.0
//! DATE: 2026-12-05 (Y/M/D)
//! HOSTNAME: `vm`, CPU: `Intel(R) Xeon(R) Processor`
//!
//! DATABASE: `RocksDb`, RUNTIME: `talos development`
//! BLOCK-NUM: `Number(392)`
//! SKIP-WRITE: `false`, SKIP-READ: `false`, WARMUPS: `1`
//! STATE-VERSION: `V1`, STATE-CACHE-SIZE: ``
//! WEIGHT-PATH: `runtime/src/weights`
//! METRIC: `Average`, WEIGHT-MUL: `1.0`, WEIGHT-ADD: `0`

// Executed Command:
//   /root/.cache/talos-target/release/talos-chain
//   benchmark
//   storage
//   --chain
//   dev
//   --base-path
//   <populated base path>
//   --state-version
//   1
//   --batch-size
//   2000
//   --weight-path
//   runtime/src/weights

/// Storage DB weights for the `talos development` runtime and `RocksDb`.
pub mod constants {
    use frame_support::parameter_types;
    use frame_support::weights::RuntimeDbWeight;
    use frame_support::weights::constants;

    parameter_types! {
        /// By default, Substrate uses `RocksDB`, so this will be the weight used throughout
        /// the runtime.
        pub const RocksDbWeight: RuntimeDbWeight = RuntimeDbWeight {
            // Time to read one storage item.
            // Calculated by multiplying the *Average* of all values with `1.0` and adding `0`.
            //
            // Stats nanoseconds:
            //   Min, Max: 685, 2_462_814
            //   Average:  16_868
            //   Median:   16_895
            //   Std-Dev:  14369.28
            //
            // Percentiles nanoseconds:
            //   99th: 43_878
            //   95th: 24_869
            //   75th: 20_502
            read: 16_868 * constants::WEIGHT_REF_TIME_PER_NANOS,

            // Time to write one storage item.
            // Calculated by multiplying the *Average* of all values with `1.0` and adding `0`.
            //
            // Stats nanoseconds:
            //   Min, Max: 24_056, 72_068
            //   Average:  55_762
            //   Median:   57_260
            //   Std-Dev:  10123.56
            //
            // Percentiles nanoseconds:
            //   99th: 71_737
            //   95th: 69_431
            //   75th: 63_838
            write: 55_762 * constants::WEIGHT_REF_TIME_PER_NANOS,
        };
    }

    #[cfg(test)]
    mod test_db_weights {
        use super::RocksDbWeight as W;
        use frame_support::weights::constants;

        /// Checks that all weights exist and have sane values.
        // NOTE: If this test fails but you are sure that the generated values are fine,
        // you can delete it.
        #[test]
        fn bound() {
            // At least 1 µs.
            assert!(
                W::get().reads(1).ref_time() >= constants::WEIGHT_REF_TIME_PER_MICROS,
                "Read weight should be at least 1 µs."
            );
            assert!(
                W::get().writes(1).ref_time() >= constants::WEIGHT_REF_TIME_PER_MICROS,
                "Write weight should be at least 1 µs."
            );
            // At most 1 ms.
            assert!(
                W::get().reads(1).ref_time() <= constants::WEIGHT_REF_TIME_PER_MILLIS,
                "Read weight should be at most 1 ms."
            );
            assert!(
                W::get().writes(1).ref_time() <= constants::WEIGHT_REF_TIME_PER_MILLIS,
                "Write weight should be at most 1 ms."
            );
        }
    }
}
