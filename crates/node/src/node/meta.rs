//! Synced writes of the small records nodes keep in `CF_META` (held calls, asks,
//! misbehaviour reports): puts and deletes in one batch, off the async threads.

use std::sync::Arc;

use talos_store::Store;
use talos_store::db::CF_META;

use crate::error::NodeError;

/// Puts (`Some`) or deletes each key, in one synced write.
pub(crate) async fn write(
    store: &Arc<Store>,
    items: Vec<(Vec<u8>, Option<Vec<u8>>)>,
) -> Result<(), NodeError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let cf = store.cf(CF_META)?;
        let mut batch = rocksdb::WriteBatch::default();
        for (key, value) in items {
            match value {
                Some(v) => batch.put_cf(cf, key, v),
                None => batch.delete_cf(cf, key),
            }
        }
        store.write(batch, true)
    })
    .await??;
    Ok(())
}
