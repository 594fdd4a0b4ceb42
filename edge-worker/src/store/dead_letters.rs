//! Storage for dead letters: queue messages that failed every retry are kept whole in
//! `dead_letter_messages` (they hold no personal data) and counted per day in `dead_letters`, until
//! an admin re-ingests them; plus the count of stored rows the consumer set aside. Must not: decide
//! anything, or log message contents.

use serde::{Deserialize, Serialize};

use super::{number, text, Store, DAY_MS};
use crate::error::AppError;

const COUNT_SQL: &str = "INSERT INTO dead_letters (day, messages, events) VALUES (?1, ?2, ?3) \
     ON CONFLICT (day) DO UPDATE SET messages = messages + excluded.messages, \
       events = events + excluded.events";
const KEEP_SQL: &str = "INSERT INTO dead_letter_messages (at, events, body) VALUES (?1, ?2, ?3)";
const SUMMARY_SQL: &str = "SELECT \
     (SELECT COALESCE(SUM(messages), 0) FROM dead_letters) AS dead_lettered_messages, \
     (SELECT COALESCE(SUM(events), 0) FROM dead_letters) AS dead_lettered_events, \
     (SELECT COUNT(*) FROM dead_letter_messages) AS kept_messages, \
     (SELECT COALESCE(SUM(events), 0) FROM dead_letter_messages) AS kept_events, \
     (SELECT MIN(at) FROM dead_letter_messages) AS oldest_kept_at, \
     (SELECT COUNT(*) FROM set_aside) AS set_aside_rows";
const OLDEST_SQL: &str = "SELECT id, body FROM dead_letter_messages ORDER BY id LIMIT ?1";
const FORGET_SQL: &str = "DELETE FROM dead_letter_messages WHERE id IN \
     (SELECT value FROM json_each(?1))";

/// What the dead-letter tables hold.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Summary {
    /// Messages ever dead-lettered (or unreadable), summed over days.
    pub dead_lettered_messages: f64,
    /// Their events.
    pub dead_lettered_events: f64,
    /// Messages kept, waiting to be re-ingested.
    pub kept_messages: f64,
    /// Their events.
    pub kept_events: f64,
    /// When the oldest kept message was dead-lettered (ms), if any.
    pub oldest_kept_at: Option<f64>,
    /// Stored visits and rollup days the consumer could not read and set aside.
    pub set_aside_rows: f64,
}

/// A kept message: its row id and its text.
#[derive(Debug, Deserialize)]
pub struct Kept {
    /// Row id.
    pub id: f64,
    /// The queue message's text.
    pub body: String,
}

impl Store {
    /// Counts queue messages (and the events in them) that were given up on.
    pub async fn count_dead_letters(
        &self,
        now: i64,
        messages: usize,
        events: usize,
    ) -> Result<(), AppError> {
        let day = now.div_euclid(DAY_MS);
        self.statement(
            COUNT_SQL,
            &[number(day), number(messages as i64), number(events as i64)],
        )?
        .run()
        .await?;
        Ok(())
    }

    /// Keeps dead-lettered messages (text, event count) and counts them, in one transaction.
    pub async fn keep_dead_letters(
        &self,
        now: i64,
        messages: &[(String, usize)],
    ) -> Result<(), AppError> {
        let events: usize = messages.iter().map(|(_, n)| n).sum();
        let day = now.div_euclid(DAY_MS);
        let mut statements = vec![self.statement(
            COUNT_SQL,
            &[
                number(day),
                number(messages.len() as i64),
                number(events as i64),
            ],
        )?];
        for (body, n) in messages {
            statements
                .push(self.statement(KEEP_SQL, &[number(now), number(*n as i64), text(body)])?);
        }
        self.db.batch(statements).await?;
        Ok(())
    }

    /// What the dead-letter tables hold.
    pub async fn dead_letter_summary(&self) -> Result<Summary, AppError> {
        Ok(self
            .statement(SUMMARY_SQL, &[])?
            .first(None)
            .await?
            .unwrap_or_default())
    }

    /// The oldest `limit` kept messages.
    pub async fn oldest_dead_letters(&self, limit: usize) -> Result<Vec<Kept>, AppError> {
        Ok(self
            .statement(OLDEST_SQL, &[number(limit as i64)])?
            .all()
            .await?
            .results()?)
    }

    /// Forgets kept messages (once they are back in the queue).
    pub async fn forget_dead_letters(&self, ids: &[f64]) -> Result<(), AppError> {
        let ids = serde_json::to_string(ids).map_err(|e| AppError::Internal(e.to_string()))?;
        self.statement(FORGET_SQL, &[text(&ids)])?.run().await?;
        Ok(())
    }
}
