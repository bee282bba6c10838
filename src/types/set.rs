//! Set values (being written by the set family).

use crate::types::dict::Dict;

#[derive(Debug, Clone, Default)]
pub struct SetValue {
    members: Dict<()>,
}

impl SetValue {
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn encoding(&self) -> &'static str {
        "hashtable"
    }

    pub fn heap_size(&self) -> usize {
        self.members.table_bytes()
    }
}
