//! The cron's work: purge raw events past each site's retention (and of erased sites) and salts
//! older than two days. Runs on the `[triggers] crons` schedule; `wrangler dev --test-scheduled`
//! exposes it locally at `/__scheduled`. Must not: touch rollups.

use worker::Env;

use crate::edge;
use crate::store::Store;

/// Runs the housekeeping once; failures are logged and left to the next run.
pub async fn run(env: &Env) {
    let result = match Store::new(env) {
        Ok(store) => store.purge(edge::now()).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(purged) => {
            worker::console_log!("housekeeping: {purged} raw events past retention purged")
        }
        Err(e) => worker::console_error!("housekeeping failed: {e:?}"),
    }
}
