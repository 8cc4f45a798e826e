//! Schema verification shared by the backends: the tables and columns the
//! daemon needs, and the unique key its upsert relies on.

use std::collections::BTreeSet;

use super::StoreError;
use crate::config::AttackerMode;

/// What one backend reports about a table.
pub struct TableInfo {
    pub columns: BTreeSet<String>,
    /// Column lists of every unique index/constraint.
    pub unique_keys: Vec<Vec<String>>,
}

/// Compares what exists with what is needed; the error lists everything
/// missing (never creates anything).
pub fn verify(
    attackers: AttackerMode,
    mut info: impl FnMut(&str) -> Option<TableInfo>,
) -> Result<(), StoreError> {
    let mut missing = Vec::new();
    for (table, cols) in super::required_columns(attackers) {
        match info(table) {
            None => missing.push(format!("table {table}")),
            Some(t) => {
                for c in cols {
                    if !t.columns.contains(c) {
                        missing.push(format!("column {table}.{c}"));
                    }
                }
                if table == "observations"
                    && !t.unique_keys.iter().any(|k| {
                        k.len() == 2
                            && k.iter().any(|c| c == "evidence_ref")
                            && k.iter().any(|c| c == "primitive")
                    })
                {
                    missing.push(
                        "unique key uq_observations_evidence_primitive (evidence_ref, primitive)"
                            .to_string(),
                    );
                }
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Schema(format!(
            "missing: {}",
            missing.join(", ")
        )))
    }
}
