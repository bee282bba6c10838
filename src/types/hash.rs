//! Hash values (being written by the hash family).

use crate::types::compact::CompactBytes;
use crate::types::dict::Dict;

#[derive(Debug, Clone, Default)]
pub struct HashValue {
    fields: Dict<CompactBytes>,
}

impl HashValue {
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn encoding(&self) -> &'static str {
        "hashtable"
    }

    pub fn heap_size(&self) -> usize {
        self.fields.table_bytes()
    }
}
