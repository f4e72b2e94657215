//! Runs a real anvil (from contracts/node_modules, installed by scripts/bootstrap.sh) on a
//! loopback port.
